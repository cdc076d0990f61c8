/* SPDX-License-Identifier: MIT */
/* The feature modules' hooks called together (see feature.h), so the connection state machine
 * and the worker know the hook set, not the features. Locking: see feature.h. */
#include "central/feature.h"

#include "central/client_internal.h"

static const iotc__feature *const features[] = {
    &iotc__desired_feature, &iotc__reported_feature, &iotc__commands_feature,
    &iotc__telemetry_feature, &iotc__persist_feature};

#define EACH(f) \
  for (const iotc__feature *const *f = features; f < features + sizeof features / sizeof *features; f++)

void iotc__features_on_connected(iotc_client *c, iotc__session *s) {
  EACH(f) if ((*f)->on_connected) (*f)->on_connected(c, s);
}

void iotc__features_on_teardown(iotc_client *c) {
  EACH(f) if ((*f)->on_teardown) (*f)->on_teardown(c);
}

uint64_t iotc__features_deadline(iotc_client *c) {
  uint64_t t = UINT64_MAX;
  EACH(f) {
    uint64_t d = (*f)->deadline ? (*f)->deadline(c) : UINT64_MAX;
    if (d < t) t = d;
  }
  return t;
}

void iotc__features_on_timer(iotc_client *c, uint64_t now) {
  EACH(f) if ((*f)->on_timer) (*f)->on_timer(c, now);
}

bool iotc__features_overdue(iotc_client *c, uint64_t now, char *why, size_t size) {
  /* Asked in this order, so the reason names a missing PUBACK before a missing twin answer. */
  static const iotc__feature *const by_kind[] = {
      &iotc__telemetry_feature, &iotc__desired_feature, &iotc__reported_feature};
  for (size_t i = 0; i < sizeof by_kind / sizeof by_kind[0]; i++) {
    if (by_kind[i]->overdue && by_kind[i]->overdue(c, now, why, size)) return true;
  }
  return false;
}

bool iotc__features_idle(iotc_client *c) {
  EACH(f) if ((*f)->busy && (*f)->busy(c)) return false;
  return true;
}
