/* SPDX-License-Identifier: MIT */
/* The texts of IoT Hub's file upload and of Azure Storage block blobs (lib/hub/file_upload.c):
 * the hub's SAS answer read strictly (a missing field or a token that cannot be a URL query is a
 * protocol error), URLs percent-encoded by segment, block ids of one length, the block list, and
 * the error codes of both services. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hub/file_upload.h"

static const char *good_answer(void) {
  return "{\"correlationId\":\"abc/+=\",\"hostName\":\"acct.blob.core.windows.net\","
         "\"containerName\":\"uploads\",\"blobName\":\"dev 1/logs/a b.txt\","
         "\"sasToken\":\"?sv=2021-08-06&sr=b&sig=S%2Bg%3D&se=2030-01-01T00%3A00%3A00Z&sp=rw\"}";
}

/* The parsed answer lives in the test state so a failed assertion still has it cleared. */
static int setup_sas(void **state) {
  static iotc__blob_sas sas;
  *state = &sas;
  return 0;
}

static int teardown_sas(void **state) {
  iotc__blob_sas_clear(*state);
  return 0;
}

static void a_sas_answer_is_read_and_its_url_built(void **state) {
  iotc__blob_sas *sp = *state;
  const char *why = NULL;
  const char *json = good_answer();
  assert_int_equal(iotc__blob_sas_parse(json, strlen(json), sp, &why), IOTC_OK);
  iotc__blob_sas s = *sp;
  assert_string_equal(s.correlation_id, "abc/+=");
  assert_string_equal(s.blob_name, "dev 1/logs/a b.txt");
  char *url = iotc__blob_url(&s, "&comp=block&blockid=x");
  assert_non_null(url);
  assert_string_equal(url, "https://acct.blob.core.windows.net/uploads/dev%201/logs/a%20b.txt"
                           "?sv=2021-08-06&sr=b&sig=S%2Bg%3D&se=2030-01-01T00%3A00%3A00Z&sp=rw"
                           "&comp=block&blockid=x");
  free(url);
  iotc__blob_sas_clear(sp);
  assert_null(sp->sas_token);
}

static void a_bad_sas_answer_is_a_protocol_error(void **state) {
  (void)state;
  const char *bad[] = {
      "",
      "[]",
      "{\"correlationId\":\"c\",\"hostName\":\"h\",\"containerName\":\"k\",\"blobName\":\"b\"}",
      "{\"correlationId\":\"c\",\"hostName\":\"h\",\"containerName\":\"k\",\"blobName\":\"b\","
      "\"sasToken\":\"sv=no-question-mark\"}",
      "{\"correlationId\":\"c\",\"hostName\":\"h\",\"containerName\":\"k\",\"blobName\":\"b\","
      "\"sasToken\":\"?a=b#fragment\"}",
      "{\"correlationId\":\"c\",\"hostName\":\"evil.example/x\",\"containerName\":\"k\","
      "\"blobName\":\"b\",\"sasToken\":\"?a=b\"}",
      "{\"correlationId\":\"\",\"hostName\":\"h\",\"containerName\":\"k\",\"blobName\":\"b\","
      "\"sasToken\":\"?a=b\"}",
      "{\"correlationId\":7,\"hostName\":\"h\",\"containerName\":\"k\",\"blobName\":\"b\","
      "\"sasToken\":\"?a=b\"}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
    iotc__blob_sas s;
    const char *why = NULL;
    assert_int_equal(iotc__blob_sas_parse(bad[i], strlen(bad[i]), &s, &why), IOTC_ERR_PROTOCOL);
    assert_non_null(why);
    assert_null(s.sas_token);
    assert_null(s.correlation_id);
  }
}

static void hub_urls_and_bodies(void **state) {
  (void)state;
  char *u = iotc__file_upload_url("hub.azure-devices.net", "dev 1/x", false);
  assert_non_null(u);
  assert_string_equal(u, "https://hub.azure-devices.net/devices/dev%201%2Fx/files?api-version="
                         IOTC__FILE_UPLOAD_API_VERSION);
  free(u);
  u = iotc__file_upload_url("localhost:8883", "d", true);
  assert_non_null(u);
  assert_string_equal(u, "https://localhost:8883/devices/d/files/notifications?api-version="
                         IOTC__FILE_UPLOAD_API_VERSION);
  free(u);
  char *b = iotc__file_upload_request_body("logs/\"q\".txt");
  assert_non_null(b);
  assert_string_equal(b, "{\"blobName\":\"logs/\\\"q\\\".txt\"}");
  free(b);
  b = iotc__file_upload_notify_body("c1", false, 503, "storage refused \xc3\n\x01");
  assert_non_null(b);
  assert_string_equal(b, "{\"correlationId\":\"c1\",\"isSuccess\":false,\"statusCode\":503,"
                         "\"statusDescription\":\"storage refused ???\"}");
  free(b);
}

static void block_ids_have_one_length_and_the_list_names_them_in_order(void **state) {
  (void)state;
  char a[IOTC__BLOCK_ID_SIZE], z[IOTC__BLOCK_ID_SIZE];
  iotc__blob_block_id(0, a);
  iotc__blob_block_id(49999, z);
  assert_int_equal(strlen(a), 20);
  assert_int_equal(strlen(z), 20);
  assert_string_not_equal(a, z);
  size_t len = 0;
  char *xml = iotc__blob_block_list(2, &len);
  assert_non_null(xml);
  char b[IOTC__BLOCK_ID_SIZE];
  iotc__blob_block_id(1, b);
  char want[256];
  snprintf(want, sizeof want,
           "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest>%s</Latest>"
           "<Latest>%s</Latest></BlockList>",
           a, b);
  assert_string_equal(xml, want);
  assert_int_equal(len, strlen(want));
  free(xml);
}

static void service_errors_are_read(void **state) {
  (void)state;
  char code[32], text[64];
  iotc__file_upload_error("{\"Message\":\"ErrorCode:InvalidStorageEndpointOrBlob;no storage\","
                          "\"ExceptionMessage\":\"Tracking ID:1\"}",
                          code, sizeof code, text, sizeof text);
  assert_string_equal(code, "InvalidStorageEndpointOrBlob");
  assert_string_equal(text, "no storage");
  iotc__file_upload_error("{\"Message\":\"plain words\"}", code, sizeof code, text, sizeof text);
  assert_string_equal(code, "");
  assert_string_equal(text, "plain words");
  iotc__file_upload_error("not json", code, sizeof code, text, sizeof text);
  assert_string_equal(code, "");
  assert_string_equal(text, "");
  iotc__blob_error_code("<?xml version=\"1.0\"?><Error><Code>AuthenticationFailed</Code>"
                        "<Message>x</Message></Error>",
                        code, sizeof code);
  assert_string_equal(code, "AuthenticationFailed");
  iotc__blob_error_code("<Error><Code>unterminated", code, sizeof code);
  assert_string_equal(code, "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(a_sas_answer_is_read_and_its_url_built, setup_sas,
                                      teardown_sas),
      cmocka_unit_test(a_bad_sas_answer_is_a_protocol_error),
      cmocka_unit_test(hub_urls_and_bodies),
      cmocka_unit_test(block_ids_have_one_length_and_the_list_names_them_in_order),
      cmocka_unit_test(service_errors_are_read),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
