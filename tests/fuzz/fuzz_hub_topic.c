/* SPDX-License-Identifier: MIT */
/* IoT Hub topics as received: every parser, the property-bag iterator and the decoder, and the
 * name checks applied to names the service sends. */
#include "fuzz.h"
#include "iotc/hub_topic.h"

static int in_view(iotc_hub_view v, const char *s, size_t n) {
  return v.ptr == NULL ? v.len == 0 : (v.ptr >= s && v.len <= n && v.ptr + v.len <= s + n);
}

/* Decode into a buffer of exactly the documented size; the result must fit and never grow. */
static void decode(iotc_hub_view raw) {
  char *buf = malloc(raw.len + 1);
  FUZZ_ASSERT(buf != NULL);
  size_t n = 0;
  if (iotc_hub_property_decode(raw, buf, raw.len + 1, &n) == IOTC_OK) {
    FUZZ_ASSERT(n <= raw.len && buf[n] == '\0' && strlen(buf) == n);
  }
  free(buf);
}

static void walk_bag(iotc_hub_view bag, const char *s, size_t n) {
  iotc_hub_property_iter it;
  if (iotc_hub_property_iter_init(&it, bag) != IOTC_OK) return;
  iotc_hub_property_view p;
  iotc_result r;
  size_t guard = 0;
  while ((r = iotc_hub_property_next(&it, &p)) != IOTC_ERR_NO_MATCH) {
    FUZZ_ASSERT(r == IOTC_OK || r == IOTC_ERR_MALFORMED);
    FUZZ_ASSERT(++guard <= bag.len); /* each step consumes input */
    if (r != IOTC_OK) continue;
    FUZZ_ASSERT(p.key.len > 0 && in_view(p.key, s, n) && in_view(p.value, s, n));
    decode(p.key);
    decode(p.value);
  }
  iotc_hub_property_view found;
  FUZZ_IGNORE(iotc_hub_property_find(bag, "$rid", &found));
  FUZZ_IGNORE(iotc_hub_property_find(bag, "", &found));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  iotc_hub_c2d_message c2d;
  if (iotc_hub_topic_c2d_parse(s, size, &c2d) == IOTC_OK) {
    FUZZ_ASSERT(c2d.device_id.len > 0 && in_view(c2d.device_id, s, size));
    FUZZ_ASSERT(in_view(c2d.properties, s, size) && in_view(c2d.method_name, s, size));
    decode(c2d.method_name);
  }
  iotc_hub_method_request m;
  iotc_result r = iotc_hub_topic_method_parse(s, size, &m);
  if (r == IOTC_OK) {
    FUZZ_ASSERT(m.name.len > 0 && m.request_id.len > 0 && in_view(m.name, s, size));
    FUZZ_ASSERT(in_view(m.request_id, s, size) && in_view(m.component, s, size));
    FUZZ_ASSERT(in_view(m.command, s, size));
  } else if (r == IOTC_ERR_MALFORMED) {
    FUZZ_ASSERT(in_view(m.request_id, s, size));
  }
  iotc_hub_twin_response tr;
  if (iotc_hub_topic_twin_response_parse(s, size, &tr) == IOTC_OK) {
    FUZZ_ASSERT(tr.status >= 100 && tr.status <= 999 && tr.request_id.len > 0);
    FUZZ_ASSERT(in_view(tr.request_id, s, size));
  }
  iotc_hub_twin_desired td;
  FUZZ_IGNORE(iotc_hub_topic_twin_desired_parse(s, size, &td));
  iotc_hub_view comp, cmd;
  if (iotc_hub_command_name_split((iotc_hub_view){s, size}, &comp, &cmd) == IOTC_OK) {
    FUZZ_ASSERT(cmd.len > 0 && in_view(cmd, s, size) && in_view(comp, s, size));
  }
  walk_bag((iotc_hub_view){s, size}, s, size);
  /* Names from the service (desired properties, commands) are checked before use. */
  char *name = fuzz_strdup(data, size);
  for (int kind = IOTC_HUB_NAME_COMPONENT; kind <= IOTC_HUB_NAME_DEVICE_ID; kind++) {
    iotc_hub_name_rule rule = IOTC_HUB_NAME_VALID;
    size_t offset = 0;
    r = iotc_hub_name_check((iotc_hub_name_kind)kind, name, &rule, &offset);
    FUZZ_ASSERT((r == IOTC_OK) == (rule == IOTC_HUB_NAME_VALID));
    FUZZ_ASSERT(r == IOTC_OK || offset <= strlen(name));
    (void)iotc_hub_name_rule_text(rule);
  }
  free(name);
  return 0;
}
