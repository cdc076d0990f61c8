/* SPDX-License-Identifier: MIT */
#include "topic_hub_test.h"

static iotc_result build_c2d_subscribe(const void *ctx, char *buf, size_t size, size_t *out_len) {
  return iotc_hub_topic_c2d_subscribe(ctx, buf, size, out_len);
}

/* Parses @p topic from an unterminated heap copy (ASan catches over-reads). */
static iotc_result parse(const char *topic, char **copy, iotc_hub_c2d_message *out) {
  size_t len;
  *copy = unterminated_copy(topic, &len);
  return iotc_hub_topic_c2d_parse(*copy, len, out);
}

static void test_topic_c2d_subscribe_filter_at_every_buffer_size(void **state) {
  (void)state;
  check_builder_boundaries(build_c2d_subscribe, "dev1", "devices/dev1/messages/devicebound/#");
  assert_int_equal(build_result(build_c2d_subscribe, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(build_result(build_c2d_subscribe, ""), IOTC_ERR_INVALID_ARG);
  assert_int_equal(build_result(build_c2d_subscribe, "d#"), IOTC_ERR_INVALID_ARG);
}

static void test_topic_c2d_parse_returns_the_device_and_the_bag(void **state) {
  (void)state;
  char *copy;
  iotc_hub_c2d_message m;
  assert_int_equal(parse("devices/dev1/messages/devicebound/", &copy, &m), IOTC_OK);
  assert_true(view_is(m.device_id, "dev1"));
  assert_int_equal(m.properties.len, 0);
  assert_null(m.method_name.ptr);
  free(copy);

  assert_int_equal(parse("devices/dev1/messages/devicebound/%24.to=%2Fdevices&foo=bar", &copy, &m),
                   IOTC_OK);
  assert_true(view_is(m.properties, "%24.to=%2Fdevices&foo=bar"));
  assert_null(m.method_name.ptr);
  free(copy);
}

static void test_topic_c2d_parse_finds_the_offline_command_name(void **state) {
  (void)state;
  char *copy;
  iotc_hub_c2d_message m;
  assert_int_equal(parse("devices/d/messages/devicebound/%24.mid=1&method-name=thermostat2%2AsetTarget"
                         "&%24.to=%2Fdevices%2Fd%2Fmessages%2FdeviceBound",
                         &copy, &m),
                   IOTC_OK);
  assert_true(view_is(m.method_name, "thermostat2%2AsetTarget"));
  char name[64];
  size_t n = 0;
  assert_int_equal(iotc_hub_property_decode(m.method_name, name, sizeof name, &n), IOTC_OK);
  assert_string_equal(name, "thermostat2*setTarget");
  iotc_hub_view component, command;
  assert_int_equal(iotc_hub_command_name_split((iotc_hub_view){name, n}, &component, &command),
                   IOTC_OK);
  assert_true(view_is(component, "thermostat2"));
  assert_true(view_is(command, "setTarget"));
  free(copy);

  /* An encoded key matches too; a key without value is not a command name. */
  assert_int_equal(parse("devices/d/messages/devicebound/method%2Dname=reboot", &copy, &m), IOTC_OK);
  assert_true(view_is(m.method_name, "reboot"));
  free(copy);
  assert_int_equal(parse("devices/d/messages/devicebound/method-name", &copy, &m), IOTC_OK);
  assert_null(m.method_name.ptr);
  free(copy);
  assert_int_equal(parse("devices/d/messages/devicebound/method-names=x", &copy, &m), IOTC_OK);
  assert_null(m.method_name.ptr);
  free(copy);
}

static void test_topic_c2d_parse_says_no_match_for_other_topics(void **state) {
  (void)state;
  for (size_t i = 0; i < HUB_TOPIC_SAMPLE_COUNT; ++i) {
    const char *t = hub_topic_samples[i];
    if (strstr(t, "/messages/devicebound/") != NULL) {
      continue;
    }
    char *copy;
    iotc_hub_c2d_message m;
    assert_int_equal(parse(t, &copy, &m), IOTC_ERR_NO_MATCH);
    free(copy);
  }
  const char *others[] = {"devices/d/messages/deviceboundX/", "devices/d/modules/m/messages/devicebound/",
                          "devices/d", "Devices/d/messages/devicebound/", "devices/d/messages/"};
  for (size_t i = 0; i < sizeof others / sizeof others[0]; ++i) {
    char *copy;
    iotc_hub_c2d_message m;
    assert_int_equal(parse(others[i], &copy, &m), IOTC_ERR_NO_MATCH);
    free(copy);
  }
}

static void test_topic_c2d_parse_reports_truncated_topics_as_malformed(void **state) {
  (void)state;
  const char *bad[] = {"devices/d/messages/devicebound", "devices//messages/devicebound/"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    char *copy;
    iotc_hub_c2d_message m;
    assert_int_equal(parse(bad[i], &copy, &m), IOTC_ERR_MALFORMED);
    free(copy);
  }
  /* Every prefix of a valid topic is either no match or malformed, never a crash. */
  const char *t = "devices/dev1/messages/devicebound/a=b";
  for (size_t len = 0; len < strlen("devices/dev1/messages/devicebound/"); ++len) {
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, t, len);
    iotc_hub_c2d_message m;
    iotc_result r = iotc_hub_topic_c2d_parse(copy, len, &m);
    assert_true(r == IOTC_ERR_NO_MATCH || r == IOTC_ERR_MALFORMED);
    free(copy);
  }
}

static void test_topic_c2d_parse_refuses_null_arguments(void **state) {
  (void)state;
  iotc_hub_c2d_message m;
  assert_int_equal(iotc_hub_topic_c2d_parse(NULL, 3, &m), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_hub_topic_c2d_parse("devices/d/messages/devicebound/", 31, NULL),
                   IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_hub_topic_c2d_parse(NULL, 0, &m), IOTC_ERR_NO_MATCH);
}

static void test_topic_property_iterator_walks_every_form(void **state) {
  (void)state;
  size_t len;
  char *bag = unterminated_copy("prop1&prop2=&prop3=a%20string&&%24.ct=a%2Fb&", &len);
  iotc_hub_property_iter it;
  assert_int_equal(iotc_hub_property_iter_init(&it, (iotc_hub_view){bag, len}), IOTC_OK);
  iotc_hub_property_view p;
  assert_int_equal(iotc_hub_property_next(&it, &p), IOTC_OK);
  assert_true(view_is(p.key, "prop1"));
  assert_false(p.has_value);
  assert_int_equal(p.value.len, 0);
  assert_int_equal(iotc_hub_property_next(&it, &p), IOTC_OK);
  assert_true(view_is(p.key, "prop2"));
  assert_true(p.has_value);
  assert_int_equal(p.value.len, 0);
  assert_int_equal(iotc_hub_property_next(&it, &p), IOTC_OK);
  assert_true(view_is(p.key, "prop3"));
  assert_true(view_is(p.value, "a%20string"));
  assert_int_equal(iotc_hub_property_next(&it, &p), IOTC_OK);
  assert_true(view_is(p.key, "%24.ct"));
  assert_true(view_is(p.value, "a%2Fb"));
  assert_int_equal(iotc_hub_property_next(&it, &p), IOTC_ERR_NO_MATCH);
  assert_int_equal(iotc_hub_property_next(&it, &p), IOTC_ERR_NO_MATCH);
  free(bag);

  /* Empty bag and empty key. */
  assert_int_equal(iotc_hub_property_iter_init(&it, (iotc_hub_view){NULL, 0}), IOTC_OK);
  assert_int_equal(iotc_hub_property_next(&it, &p), IOTC_ERR_NO_MATCH);
  bag = unterminated_copy("=v&k=1", &len);
  assert_int_equal(iotc_hub_property_iter_init(&it, (iotc_hub_view){bag, len}), IOTC_OK);
  assert_int_equal(iotc_hub_property_next(&it, &p), IOTC_ERR_MALFORMED);
  assert_int_equal(iotc_hub_property_next(&it, &p), IOTC_OK);
  assert_true(view_is(p.key, "k"));
  assert_true(view_is(p.value, "1"));
  free(bag);

  /* A value may hold '='. */
  bag = unterminated_copy("k=a=b", &len);
  assert_int_equal(iotc_hub_property_iter_init(&it, (iotc_hub_view){bag, len}), IOTC_OK);
  assert_int_equal(iotc_hub_property_next(&it, &p), IOTC_OK);
  assert_true(view_is(p.value, "a=b"));
  free(bag);

  assert_int_equal(iotc_hub_property_iter_init(NULL, (iotc_hub_view){NULL, 0}), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_hub_property_iter_init(&it, (iotc_hub_view){NULL, 1}), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_hub_property_next(NULL, &p), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_hub_property_next(&it, NULL), IOTC_ERR_INVALID_ARG);
}

static void test_topic_property_find_compares_decoded_keys(void **state) {
  (void)state;
  size_t len;
  char *bag = unterminated_copy("%24.mid=1&a%20b=2&%24.ct=x&bad%2=3&short%", &len);
  iotc_hub_view v = {bag, len};
  iotc_hub_property_view p;
  assert_int_equal(iotc_hub_property_find(v, "$.mid", &p), IOTC_OK);
  assert_true(view_is(p.value, "1"));
  assert_int_equal(iotc_hub_property_find(v, "a b", &p), IOTC_OK);
  assert_true(view_is(p.value, "2"));
  assert_int_equal(iotc_hub_property_find(v, "$.ct", &p), IOTC_OK);
  assert_int_equal(iotc_hub_property_find(v, "$.c", &p), IOTC_ERR_NO_MATCH);
  assert_int_equal(iotc_hub_property_find(v, "$.cte", &p), IOTC_ERR_NO_MATCH);
  assert_int_equal(iotc_hub_property_find(v, "bad%2", &p), IOTC_ERR_NO_MATCH);
  assert_int_equal(iotc_hub_property_find(v, "short", &p), IOTC_ERR_NO_MATCH);
  assert_int_equal(iotc_hub_property_find(v, NULL, &p), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_hub_property_find(v, "a", NULL), IOTC_ERR_INVALID_ARG);
  free(bag);
  bag = unterminated_copy("nul%00=1", &len);
  assert_int_equal(iotc_hub_property_find((iotc_hub_view){bag, len}, "nul", &p), IOTC_ERR_NO_MATCH);
  free(bag);
}

static void test_topic_property_decode_handles_encoding_edge_cases(void **state) {
  (void)state;
  const struct {
    const char *raw, *decoded;
  } ok[] = {
      {"a%20b", "a b"}, {"a+b", "a+b"}, {"100%25", "100%"}, {"%3D%26%2F%3F", "=&/?"},
      {"caf%C3%A9", "caf\xc3\xa9"}, {"%e2%82%ac", "\xe2\x82\xac"}, {"", ""},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; ++i) {
    size_t len;
    char *raw = unterminated_copy(ok[i].raw, &len);
    char buf[32];
    size_t n = 99;
    assert_int_equal(iotc_hub_property_decode((iotc_hub_view){raw, len}, buf, sizeof buf, &n), IOTC_OK);
    assert_string_equal(buf, ok[i].decoded);
    assert_int_equal(n, strlen(ok[i].decoded));
    free(raw);
  }
  const char *bad[] = {"%", "%2", "a%zz", "%00", "%G0"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    size_t len;
    char *raw = unterminated_copy(bad[i], &len);
    char buf[8] = "xxxxxxx";
    assert_int_equal(iotc_hub_property_decode((iotc_hub_view){raw, len}, buf, sizeof buf, NULL),
                     IOTC_ERR_BAD_ENCODING);
    assert_string_equal(buf, "xxxxxxx");
    free(raw);
  }
  char small[3] = "xx";
  size_t n = 0;
  assert_int_equal(iotc_hub_property_decode((iotc_hub_view){"a%20b", 5}, small, sizeof small, &n),
                   IOTC_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(n, 3);
  assert_string_equal(small, "xx");
  assert_int_equal(iotc_hub_property_decode((iotc_hub_view){NULL, 1}, small, sizeof small, &n),
                   IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_hub_property_decode((iotc_hub_view){"a", 1}, NULL, 4, &n),
                   IOTC_ERR_INVALID_ARG);
}

/* Decodes @p bag from an unterminated heap copy (ASan catches over-reads) into roomy buffers. */
typedef struct decoded {
  iotc_result r;
  iotc_hub_bag_sizes sizes;
  iotc_hub_property pairs[8];
  char text[256];
} decoded;

static void decode_bag(const char *bag, decoded *d) {
  memset(d, 0, sizeof *d);
  size_t len;
  char *copy = unterminated_copy(bag, &len);
  d->r = iotc_hub_property_bag_decode((iotc_hub_view){copy, len}, d->pairs, 8, d->text,
                                      sizeof d->text, &d->sizes);
  /* The pairs point into d->text, not into the bag: the copy may go. */
  free(copy);
}

static void assert_decoded(const decoded *d, size_t count, size_t skipped) {
  assert_int_equal(d->r, IOTC_OK);
  assert_int_equal(d->sizes.count, count);
  assert_int_equal(d->sizes.skipped, skipped);
}

static void assert_pair(const decoded *d, size_t i, const char *key, const char *value) {
  assert_true(i < d->sizes.count);
  assert_string_equal(d->pairs[i].key, key);
  assert_string_equal(d->pairs[i].value, value);
  assert_true(d->pairs[i].key >= d->text && d->pairs[i].value < d->text + d->sizes.text_len);
}

static void test_topic_property_bag_decode_gives_every_pair_decoded_in_order(void **state) {
  (void)state;
  decoded d;
  decode_bag("%24.to=%2Fdevices%2Fdev1%2Fmessages&foo=bar&flag&empty=&a%20b=c%26d+e", &d);
  assert_decoded(&d, 5, 0);
  assert_pair(&d, 0, "$.to", "/devices/dev1/messages");
  assert_pair(&d, 1, "foo", "bar");
  assert_pair(&d, 2, "flag", ""); /* the service's null value */
  assert_pair(&d, 3, "empty", "");
  assert_pair(&d, 4, "a b", "c&d+e"); /* '+' is not a space here */
  assert_int_equal(d.sizes.text_len, sizeof "$.to" + sizeof "/devices/dev1/messages" +
                                         sizeof "foo" + sizeof "bar" + sizeof "flag" + 1 +
                                         sizeof "empty" + 1 + sizeof "a b" + sizeof "c&d+e");
}

static void test_topic_property_bag_decode_leaves_out_and_counts_what_cannot_be_decoded(
    void **state) {
  (void)state;
  decoded d;
  decode_bag("=v&good=1&bad%2=x&nul=%00&k=%zz&%00=1&last", &d);
  assert_decoded(&d, 2, 5);
  assert_pair(&d, 0, "good", "1");
  assert_pair(&d, 1, "last", "");
  decode_bag("=only", &d);
  assert_decoded(&d, 0, 1);
  assert_int_equal(d.sizes.text_len, 0);
}

static void test_topic_property_bag_decode_of_an_empty_bag_needs_no_buffer(void **state) {
  (void)state;
  const char *bags[] = {"", "&", "&&&"};
  for (size_t i = 0; i < sizeof bags / sizeof bags[0]; ++i) {
    iotc_hub_bag_sizes n = {9, 9, 9};
    assert_int_equal(iotc_hub_property_bag_decode((iotc_hub_view){bags[i], strlen(bags[i])}, NULL,
                                                  0, NULL, 0, &n),
                     IOTC_OK);
    assert_int_equal(n.count, 0);
    assert_int_equal(n.text_len, 0);
    assert_int_equal(n.skipped, 0);
  }
  iotc_hub_bag_sizes n;
  assert_int_equal(iotc_hub_property_bag_decode((iotc_hub_view){NULL, 0}, NULL, 0, NULL, 0, &n),
                   IOTC_OK);
  assert_int_equal(n.count, 0);
}

/* Every pair of (max_pairs, text_size) around the sizes needed: too small writes nothing and
 * still reports the sizes; large enough writes exactly the sizes reported. */
static void test_topic_property_bag_decode_at_every_buffer_size(void **state) {
  (void)state;
  const char bag[] = "a=1&b%3D=%262&c&=x";
  const iotc_hub_view v = {bag, sizeof bag - 1};
  iotc_hub_bag_sizes need;
  assert_int_equal(iotc_hub_property_bag_decode(v, NULL, 0, NULL, 0, &need),
                   IOTC_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(need.count, 3);
  assert_int_equal(need.text_len, sizeof "a" + sizeof "1" + sizeof "b=" + sizeof "&2" +
                                      sizeof "c" + 1);
  assert_int_equal(need.skipped, 1);
  for (size_t pairs_room = 0; pairs_room <= need.count + 1; ++pairs_room) {
    for (size_t text_room = 0; text_room <= need.text_len + 1; ++text_room) {
      iotc_hub_property pairs[8];
      char text[64];
      memset(pairs, GUARD_BYTE, sizeof pairs);
      memset(text, GUARD_BYTE, sizeof text);
      iotc_hub_bag_sizes n = {0, 0, 0};
      iotc_result r = iotc_hub_property_bag_decode(v, pairs_room ? pairs : NULL, pairs_room,
                                                   text_room ? text : NULL, text_room, &n);
      assert_int_equal(n.count, need.count);
      assert_int_equal(n.text_len, need.text_len);
      assert_int_equal(n.skipped, need.skipped);
      size_t text_written = 0, pairs_written = 0;
      if (pairs_room < need.count || text_room < need.text_len) {
        assert_int_equal(r, IOTC_ERR_BUFFER_TOO_SMALL);
      } else {
        assert_int_equal(r, IOTC_OK);
        assert_string_equal(pairs[0].key, "a");
        assert_string_equal(pairs[0].value, "1");
        assert_string_equal(pairs[1].key, "b=");
        assert_string_equal(pairs[1].value, "&2");
        assert_string_equal(pairs[2].key, "c");
        assert_string_equal(pairs[2].value, "");
        text_written = need.text_len;
        pairs_written = need.count;
      }
      for (size_t k = text_written; k < sizeof text; ++k) assert_int_equal(text[k], GUARD_BYTE);
      const char *raw = (const char *)(pairs + pairs_written);
      for (size_t k = 0; k < sizeof pairs - pairs_written * sizeof pairs[0]; ++k) {
        assert_int_equal(raw[k], GUARD_BYTE);
      }
    }
  }
}

static void test_topic_property_bag_decode_fits_twice_the_bag_plus_two(void **state) {
  (void)state;
  const char *bags[] = {"a", "a&b&c&d", "a=&b=", "k=v", "%41%42=%43", "a&&b"};
  for (size_t i = 0; i < sizeof bags / sizeof bags[0]; ++i) {
    size_t len = strlen(bags[i]);
    iotc_hub_bag_sizes n;
    iotc_result r = iotc_hub_property_bag_decode((iotc_hub_view){bags[i], len}, NULL, 0, NULL, 0,
                                                 &n);
    assert_int_equal(r, IOTC_ERR_BUFFER_TOO_SMALL);
    assert_true(n.text_len <= 2 * len + 2);
  }
}

static void test_topic_property_bag_decode_refuses_null_arguments(void **state) {
  (void)state;
  iotc_hub_property pairs[1];
  char text[8];
  iotc_hub_bag_sizes n;
  const iotc_hub_view bag = {"a=1", 3};
  assert_int_equal(iotc_hub_property_bag_decode(bag, pairs, 1, text, sizeof text, NULL),
                   IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_hub_property_bag_decode((iotc_hub_view){NULL, 3}, pairs, 1, text,
                                                sizeof text, &n),
                   IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_hub_property_bag_decode(bag, NULL, 1, text, sizeof text, &n),
                   IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_hub_property_bag_decode(bag, pairs, 1, NULL, sizeof text, &n),
                   IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_hub_property_bag_decode(bag, pairs, 1, text, sizeof text, &n), IOTC_OK);
  assert_string_equal(pairs[0].key, "a");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_topic_c2d_subscribe_filter_at_every_buffer_size),
      cmocka_unit_test(test_topic_c2d_parse_returns_the_device_and_the_bag),
      cmocka_unit_test(test_topic_c2d_parse_finds_the_offline_command_name),
      cmocka_unit_test(test_topic_c2d_parse_says_no_match_for_other_topics),
      cmocka_unit_test(test_topic_c2d_parse_reports_truncated_topics_as_malformed),
      cmocka_unit_test(test_topic_c2d_parse_refuses_null_arguments),
      cmocka_unit_test(test_topic_property_iterator_walks_every_form),
      cmocka_unit_test(test_topic_property_find_compares_decoded_keys),
      cmocka_unit_test(test_topic_property_decode_handles_encoding_edge_cases),
      cmocka_unit_test(test_topic_property_bag_decode_gives_every_pair_decoded_in_order),
      cmocka_unit_test(test_topic_property_bag_decode_leaves_out_and_counts_what_cannot_be_decoded),
      cmocka_unit_test(test_topic_property_bag_decode_of_an_empty_bag_needs_no_buffer),
      cmocka_unit_test(test_topic_property_bag_decode_at_every_buffer_size),
      cmocka_unit_test(test_topic_property_bag_decode_fits_twice_the_bag_plus_two),
      cmocka_unit_test(test_topic_property_bag_decode_refuses_null_arguments),
  };
  return cmocka_run_group_tests_name("hub topic: C2D and property bags", tests, NULL, NULL);
}
