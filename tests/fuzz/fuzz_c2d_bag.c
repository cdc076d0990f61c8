/* SPDX-License-Identifier: MIT */
/* A C2D property bag as received, decoded into name/value pairs: the sizes measured first are
 * the sizes written, buffers of exactly those sizes suffice, one byte less writes nothing, and
 * the pairs agree with the property iterator and the percent-decoder. */
#include "fuzz.h"
#include "iotc/hub_topic.h"

#define GUARD ((char)0x5A)

/* What the iterator and the decoder say the bag holds; the decoder under test must agree. */
static iotc_hub_bag_sizes oracle(iotc_hub_view bag) {
  iotc_hub_bag_sizes n = {0, 0, 0};
  iotc_hub_property_iter it;
  FUZZ_ASSERT(iotc_hub_property_iter_init(&it, bag) == IOTC_OK);
  iotc_hub_property_view p;
  iotc_result r;
  char probe[1];
  size_t kn = 0, vn = 0;
  while ((r = iotc_hub_property_next(&it, &p)) != IOTC_ERR_NO_MATCH) {
    if (r == IOTC_OK &&
        iotc_hub_property_decode(p.key, probe, 0, &kn) == IOTC_ERR_BUFFER_TOO_SMALL &&
        iotc_hub_property_decode(p.value, probe, 0, &vn) == IOTC_ERR_BUFFER_TOO_SMALL) {
      n.count++;
      n.text_len += kn + vn + 2;
    } else {
      n.skipped++;
    }
  }
  return n;
}

static void same_sizes(iotc_hub_bag_sizes a, iotc_hub_bag_sizes b) {
  FUZZ_ASSERT(a.count == b.count && a.text_len == b.text_len && a.skipped == b.skipped);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* An unterminated heap copy: ASan catches a read past the bag. */
  char *copy = malloc(size ? size : 1);
  if (copy == NULL) abort();
  if (size) memcpy(copy, data, size);
  iotc_hub_view bag = {copy, size};

  iotc_hub_bag_sizes need;
  iotc_result r = iotc_hub_property_bag_decode(bag, NULL, 0, NULL, 0, &need);
  same_sizes(need, oracle(bag));
  FUZZ_ASSERT(r == (need.count == 0 ? IOTC_OK : IOTC_ERR_BUFFER_TOO_SMALL));
  FUZZ_ASSERT(need.text_len <= 2 * size + 2 && need.text_len >= 2 * need.count);

  /* Exactly the sizes measured: it fits, and the strings fill the text end to end. */
  iotc_hub_property *pairs = malloc(need.count ? need.count * sizeof *pairs : 1);
  char *text = malloc(need.text_len ? need.text_len : 1);
  if (pairs == NULL || text == NULL) abort();
  iotc_hub_bag_sizes got;
  FUZZ_ASSERT(iotc_hub_property_bag_decode(bag, pairs, need.count, text, need.text_len, &got) ==
              IOTC_OK);
  same_sizes(got, need);
  const char *at = text;
  for (size_t i = 0; i < got.count; i++) {
    size_t kn = strlen(pairs[i].key);
    FUZZ_ASSERT(pairs[i].key == at && kn > 0);
    at += kn + 1;
    FUZZ_ASSERT(pairs[i].value == at);
    at += strlen(pairs[i].value) + 1;
  }
  FUZZ_ASSERT(at == text + got.text_len);

  /* One byte of text less: refused, and nothing written. */
  if (need.text_len > 0) {
    memset(text, GUARD, need.text_len);
    FUZZ_ASSERT(iotc_hub_property_bag_decode(bag, pairs, need.count, text, need.text_len - 1,
                                             &got) == IOTC_ERR_BUFFER_TOO_SMALL);
    same_sizes(got, need);
    for (size_t k = 0; k < need.text_len; k++) FUZZ_ASSERT(text[k] == GUARD);
  }
  free(pairs);
  free(text);
  free(copy);
  return 0;
}
