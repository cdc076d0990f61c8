/* SPDX-License-Identifier: MIT */
/* DTDL device models: parsing (v2, v3, arrays of interfaces, components, every
 * schema kind, malformed models and their exact errors) and checking values
 * against them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/model.h"

static char why[IOTC__MODEL_WHY_SIZE];

static iotc__model *parse_ok(const char *json) {
  iotc__model *m = NULL;
  iotc_result r = iotc__model_parse(json, strlen(json), &m, why);
  if (r != IOTC_OK)
    fail_msg("model refused: %s", why);
  assert_non_null(m);
  return m;
}

/* Check one value against @p m (why holds the reason). */
static iotc_result chk(const iotc__model *m, const char *component, iotc__model_use use,
                       const char *name, const char *value_json) {
  return iotc__model_check_text(m, component, use, name, value_json, strlen(value_json), why);
}

static iotc_result telemetry(const iotc__model *m, const char *json) {
  return iotc__model_check_members(m, NULL, IOTC__MODEL_TELEMETRY, json, strlen(json), why);
}

/* The model is refused with IOTC_ERR_INVALID_ARG and exactly @p expected_why.
 */
static void parse_fails(const char *json, const char *expected_why) {
  iotc__model *m = (iotc__model *)1;
  assert_int_equal(iotc__model_parse(json, strlen(json), &m, why), IOTC_ERR_INVALID_ARG);
  assert_null(m);
  assert_string_equal(why, expected_why);
}

#define V2 "\"@context\":\"dtmi:dtdl:context;2\""
#define V3 "\"@context\":\"dtmi:dtdl:context;3\""
#define IFACE(ctx, contents)                                                                       \
  "{" ctx ",\"@id\":\"dtmi:t:T;1\",\"@type\":\"Interface\",\"contents\":[" contents "]}"
#define PROP(name, schema)                                                                         \
  "{\"@type\":\"Property\",\"name\":\"" name "\",\"schema\":" schema ",\"writable\":true}"

/* Check @p value_json as the writable property "p" of a one-property model with
 * @p schema. */
static iotc_result check_schema(int version, const char *schema, const char *value_json) {
  char json[4096];
  snprintf(json, sizeof json,
           "{\"@context\":\"dtmi:dtdl:context;%d\",\"@id\":\"dtmi:t:T;1\",\"@"
           "type\":\"Interface\","
           "\"contents\":[{\"@type\":\"Property\",\"name\":\"p\",\"writable\":"
           "true,\"schema\":%s}]}",
           version, schema);
  iotc__model *m = parse_ok(json);
  iotc_result r = iotc__model_check_text(m, NULL, IOTC__MODEL_WRITABLE, "p", value_json,
                                         strlen(value_json), why);
  iotc__model_free(m);
  return r;
}

#define ACCEPTS(schema, value) assert_int_equal(check_schema(2, schema, value), IOTC_OK)
#define REFUSES(schema, value, text)                                                               \
  do {                                                                                             \
    assert_int_equal(check_schema(2, schema, value), IOTC_ERR_INVALID_ARG);                        \
    assert_string_equal(why, text);                                                                \
  } while (0)

static char *example_model(void) {
  char path[1024];
  snprintf(path, sizeof path, "%s", __FILE__);
  char *slash = strrchr(path, '/');
  assert_non_null(slash);
  *slash = '\0';
  strncat(path, "/../../examples/environmental_sensor/EnvironmentalSensor.json",
          sizeof path - strlen(path) - 1);
  return strdup(path);
}

/* ---- parsing
 * ----------------------------------------------------------------------------
 */

static void the_example_model_loads_with_its_contents(void **state) {
  (void)state;
  char *path = example_model();
  iotc__model *m = NULL;
  assert_int_equal(iotc__model_load(path, &m, why), IOTC_OK);
  free(path);
  assert_string_equal(iotc__model_id(m), "dtmi:com:example:iotc:EnvironmentalSensor;1");
  assert_int_equal(chk(m, NULL, IOTC__MODEL_WRITABLE, "brightness", "3"), IOTC_OK);
  assert_int_equal(chk(m, NULL, IOTC__MODEL_WRITABLE, "brightness", "\"bright\""),
                   IOTC_ERR_INVALID_ARG);
  assert_string_equal(why, "brightness: expected integer, got string");
  /* a read-only property is reported, never written */
  assert_int_equal(chk(m, NULL, IOTC__MODEL_REPORTED, "state", "true"), IOTC_OK);
  assert_int_equal(chk(m, NULL, IOTC__MODEL_WRITABLE, "state", "true"), IOTC_ERR_NOT_FOUND);
  assert_string_equal(why, "'state' is not a writable property of "
                           "dtmi:com:example:iotc:EnvironmentalSensor;1");
  const char *t = "{\"temp\":21.5,\"humid\":40}";
  assert_int_equal(telemetry(m, t), IOTC_OK);
  t = "{\"temp\":21.5,\"pressure\":1013}";
  assert_int_equal(telemetry(m, t), IOTC_ERR_NOT_FOUND);
  assert_string_equal(why, "'pressure' is not a telemetry of "
                           "dtmi:com:example:iotc:EnvironmentalSensor;1");
  /* blink's request is "interval" (long); turnon has none, so any payload
   * passes */
  assert_int_equal(chk(m, NULL, IOTC__MODEL_COMMAND_REQUEST, "blink", "\"x\""),
                   IOTC_ERR_INVALID_ARG);
  assert_string_equal(why, "interval: expected integer, got string");
  assert_int_equal(chk(m, NULL, IOTC__MODEL_COMMAND_REQUEST, "turnon", "null"), IOTC_OK);
  assert_int_equal(chk(m, NULL, IOTC__MODEL_COMMAND_RESPONSE, "blink", "{\"description\":\"ok\"}"),
                   IOTC_OK);
  assert_int_equal(chk(m, NULL, IOTC__MODEL_COMMAND_REQUEST, "reboot", "1"), IOTC_ERR_NOT_FOUND);
  iotc__model_free(m);
}

static void a_v3_interface_with_semantic_types_and_v3_schemas_parses(void **state) {
  (void)state;
  iotc__model *m = parse_ok("{\"@context\":[\"dtmi:dtdl:context;3\",\"dtmi:dtdl:extension:"
                            "quantitativeTypes;1\"],"
                            "\"@id\":\"dtmi:t:V3;1\",\"@type\":\"Interface\",\"contents\":["
                            "{\"@type\":[\"Telemetry\",\"Temperature\"],\"name\":\"t\","
                            "\"schema\":\"double\","
                            "\"unit\":\"degreeCelsius\"},"
                            "{\"@type\":\"Telemetry\",\"name\":\"b\",\"schema\":\"byte\"},"
                            "{\"@type\":\"Telemetry\",\"name\":\"u\",\"schema\":\"uuid\"},"
                            "{\"@type\":[\"Property\",\"Historized\"],\"name\":\"list\","
                            "\"schema\":{\"@type\":\"Array\","
                            "\"elementSchema\":\"unsignedShort\"}},"
                            "{\"@type\":\"Command\",\"name\":\"go\",\"request\":{\"name\":"
                            "\"speed\",\"schema\":\"short\","
                            "\"nullable\":true}},"
                            "{\"@type\":\"Relationship\",\"name\":\"rel\"}]}");
  assert_string_equal(iotc__model_id(m), "dtmi:t:V3;1");
  const char *t = "{\"t\":1,\"b\":-128,\"u\":\"123e4567-e89b-12d3-a456-426614174000\"}";
  assert_int_equal(telemetry(m, t), IOTC_OK);
  t = "{\"b\":128}";
  assert_int_equal(telemetry(m, t), IOTC_ERR_INVALID_ARG);
  assert_string_equal(why, "b: 128 is out of range for byte");
  assert_int_equal(chk(m, NULL, IOTC__MODEL_REPORTED, "list", "[1,65536]"), IOTC_ERR_INVALID_ARG);
  assert_string_equal(why, "list[1]: 65536 is out of range for unsignedShort");
  /* a nullable request accepts null */
  assert_int_equal(chk(m, NULL, IOTC__MODEL_COMMAND_REQUEST, "go", "null"), IOTC_OK);
  assert_int_equal(chk(m, NULL, IOTC__MODEL_COMMAND_REQUEST, "go", "\"f\""), IOTC_ERR_INVALID_ARG);
  assert_string_equal(why, "speed: expected integer, got string");
  /* relationships are not device contents */
  assert_int_equal(chk(m, NULL, IOTC__MODEL_REPORTED, "rel", "1"), IOTC_ERR_NOT_FOUND);
  iotc__model_free(m);
}

static const char ARRAY_MODEL[] =
    "[{\"@context\":[\"dtmi:iotcentral:context;2\",\"dtmi:dtdl:context;2\"],"
    "\"@id\":\"dtmi:t:Device;1\",\"@type\":\"Interface\",\"contents\":["
    "{\"@type\":\"Component\",\"name\":\"thermostat1\",\"schema\":\"dtmi:t:"
    "Thermostat;1\"},"
    "{\"@type\":\"Component\",\"name\":\"info\",\"schema\":\"dtmi:t:Info;1\"},"
    "{\"@type\":\"Property\",\"name\":\"serial\",\"schema\":\"string\"},"
    "{\"@type\":[\"Property\",\"Cloud\"],\"name\":\"customer\",\"schema\":"
    "\"string\"}]},"
    "{\"@context\":\"dtmi:dtdl:context;2\",\"@id\":\"dtmi:t:Thermostat;1\",\"@"
    "type\":\"Interface\","
    "\"contents\":[{\"@type\":\"Property\",\"name\":\"target\",\"schema\":"
    "\"dtmi:t:Range;1\","
    "\"writable\":true},{\"@type\":\"Telemetry\",\"name\":\"temperature\","
    "\"schema\":\"double\"}],"
    "\"schemas\":[{\"@id\":\"dtmi:t:Range;1\",\"@type\":\"Object\",\"fields\":["
    "{\"name\":\"low\",\"schema\":\"double\"},{\"name\":\"high\",\"schema\":"
    "\"double\"}]}]},"
    "{\"@id\":\"dtmi:t:Info;1\",\"@type\":\"Interface\",\"extends\":\"dtmi:t:"
    "Base;1\","
    "\"contents\":[{\"@type\":\"Property\",\"name\":\"model\",\"schema\":"
    "\"string\"}]},"
    "{\"@id\":\"dtmi:t:Base;1\",\"@type\":\"Interface\","
    "\"contents\":[{\"@type\":\"Property\",\"name\":\"vendor\",\"schema\":"
    "\"string\"}]}]";

static void an_array_of_interfaces_gives_components_by_id(void **state) {
  (void)state;
  iotc__model *m = parse_ok(ARRAY_MODEL);
  assert_string_equal(iotc__model_id(m), "dtmi:t:Device;1");
  assert_true(iotc__model_has_component(m, "thermostat1"));
  assert_true(iotc__model_has_component(m, "info"));
  assert_false(iotc__model_has_component(m, "serial"));
  assert_false(iotc__model_has_component(m, "nope"));
  const char *v = "{\"low\":18,\"high\":22.5}";
  assert_int_equal(chk(m, "thermostat1", IOTC__MODEL_WRITABLE, "target", v), IOTC_OK);
  v = "{\"low\":18,\"mid\":20}";
  assert_int_equal(chk(m, "thermostat1", IOTC__MODEL_WRITABLE, "target", v), IOTC_ERR_INVALID_ARG);
  assert_string_equal(why, "target: unknown field 'mid'");
  /* the root has no "target"; the component has no "serial" */
  assert_int_equal(chk(m, NULL, IOTC__MODEL_WRITABLE, "target", "1"), IOTC_ERR_NOT_FOUND);
  assert_int_equal(chk(m, "thermostat1", IOTC__MODEL_REPORTED, "serial", "\"s\""),
                   IOTC_ERR_NOT_FOUND);
  assert_int_equal(chk(m, "thermostat2", IOTC__MODEL_TELEMETRY, "temperature", "1"),
                   IOTC_ERR_NOT_FOUND);
  assert_string_equal(why, "'thermostat2' is not a component of dtmi:t:Device;1");
  /* extends brings the base interface's contents; the context is inherited from
   * the first */
  assert_int_equal(chk(m, "info", IOTC__MODEL_REPORTED, "vendor", "\"v\""), IOTC_OK);
  assert_int_equal(chk(m, "info", IOTC__MODEL_REPORTED, "model", "\"m\""), IOTC_OK);
  /* IoT Central cloud properties are not the device's */
  assert_int_equal(chk(m, NULL, IOTC__MODEL_REPORTED, "customer", "\"c\""), IOTC_ERR_NOT_FOUND);
  iotc__model_free(m);
}

static void an_inline_component_interface_is_used(void **state) {
  (void)state;
  iotc__model *m =
      parse_ok(IFACE(V2, "{\"@type\":\"Component\",\"name\":\"c\",\"schema\":"
                         "{\"@id\":\"dtmi:t:C;1\",\"@type\":\"Interface\",\"contents\":"
                         "[{\"@type\":\"Telemetry\",\"name\":\"x\",\"schema\":\"float\"}]}}"));
  assert_int_equal(chk(m, "c", IOTC__MODEL_TELEMETRY, "x", "1.5"), IOTC_OK);
  assert_int_equal(chk(m, "c", IOTC__MODEL_TELEMETRY, "x", "1e300"), IOTC_ERR_INVALID_ARG);
  assert_string_equal(why, "x: 1e+300 is out of range for float");
  iotc__model_free(m);
}

static void malformed_models_are_refused_with_where_and_what(void **state) {
  (void)state;
  parse_fails("{\"@id\":", "not valid JSON: truncated");
  parse_fails("42", "the model is neither an interface nor a non-empty array of interfaces");
  parse_fails("[]", "the model is neither an interface nor a non-empty array of interfaces");
  parse_fails("{\"@id\":\"dtmi:t:T;1\",\"@type\":\"Interface\"}",
              "@context: missing (dtmi:dtdl:context;2 or dtmi:dtdl:context;3 "
              "expected)");
  parse_fails("{\"@context\":\"dtmi:dtdl:context;4\",\"@id\":\"dtmi:t:T;1\",\"@"
              "type\":\"Interface\"}",
              "@context: no DTDL v2 or v3 context (dtmi:dtdl:context;2 or "
              "dtmi:dtdl:context;3)");
  parse_fails("{" V2 ",\"@id\":\"dtmi:t:T;1\",\"@type\":\"Telemetry\"}",
              "not an Interface (an object with \"@type\": \"Interface\")");
  parse_fails("{" V2 ",\"@id\":\"t:T\",\"@type\":\"Interface\"}",
              "@id: missing or not a DTMI (dtmi:...;N)");
  parse_fails(IFACE(V2, PROP("a", "\"string\"") "," PROP("b", "\"string\"") "," PROP(
                            "c", "\"string\"") "," PROP("d", "\"foo\"")),
              "contents[3].schema: unknown schema 'foo'");
  parse_fails(IFACE(V2, "{\"@type\":\"Telemetry\",\"name\":\"t\"}"), "contents[0].schema: missing");
  parse_fails(IFACE(V2, "{\"@type\":\"Thing\",\"name\":\"t\"}"),
              "contents[0].@type: 'Thing' is not Telemetry, Property, Command, "
              "Component or Relationship");
  parse_fails(IFACE(V2, "{\"@type\":[\"Telemetry\",\"Property\"],\"name\":\"t\"}"),
              "contents[0].@type: both Telemetry and Property");
  parse_fails(IFACE(V2, PROP("1st", "\"string\"")),
              "contents[0].name: '1st' is not a DTDL name (letters, digits, "
              "'_'; a letter first)");
  parse_fails(IFACE(V2, PROP("a", "\"string\"") "," PROP("a", "\"long\"")),
              "contents[1]: 'a' is in the interface twice (or also in one it extends)");
  parse_fails(IFACE(V2, PROP("a", "\"uuid\"")),
              "contents[0].schema: schema 'uuid' needs DTDL v3 (the model's "
              "context is v2)");
  parse_fails(IFACE(V2, "{\"@type\":\"Property\",\"name\":\"a\",\"schema\":"
                        "\"string\",\"writable\":1}"),
              "contents[0].writable: not true or false");
  parse_fails(IFACE(V2, PROP("a", "{\"@type\":\"Set\"}")),
              "contents[0].schema.@type: unknown schema type 'Set' (Array, "
              "Enum, Map or Object expected)");
  parse_fails(IFACE(V2, PROP("a", "{\"@type\":\"Object\",\"fields\":[{\"name\":"
                                  "\"x\",\"schema\":\"int\"}]}")),
              "contents[0].schema.fields[0].schema: unknown schema 'int'");
  parse_fails(IFACE(V2, PROP("a", "{\"@type\":\"Object\",\"fields\":[{\"name\":"
                                  "\"x\",\"schema\":\"long\"},"
                                  "{\"name\":\"x\",\"schema\":\"long\"}]}")),
              "contents[0].schema.fields[1]: 'x' is given twice");
  parse_fails(IFACE(V2, PROP("a", "{\"@type\":\"Enum\",\"valueSchema\":\"double\","
                                  "\"enumValues\":[]}")),
              "contents[0].schema.valueSchema: must be \"integer\" or \"string\"");
  parse_fails(IFACE(V2, PROP("a", "{\"@type\":\"Enum\",\"valueSchema\":\"integer\",\"enumValues\":"
                                  "[{\"name\":\"on\",\"enumValue\":\"1\"}]}")),
              "contents[0].schema.enumValues[0].enumValue: missing or not an integer "
              "(the enum's valueSchema)");
  parse_fails(IFACE(V2, PROP("a", "{\"@type\":\"Map\",\"mapKey\":{\"name\":\"k\","
                                  "\"schema\":\"long\"},"
                                  "\"mapValue\":{\"name\":\"v\",\"schema\":\"long\"}}")),
              "contents[0].schema.mapKey.schema: must be \"string\"");
  parse_fails(IFACE(V2, PROP("a", "{\"@type\":\"Array\"}")),
              "contents[0].schema.elementSchema: missing");
  parse_fails(IFACE(V2, "{\"@type\":\"Command\",\"name\":\"c\",\"request\":{"
                        "\"name\":\"r\",\"schema\":\"x\"}}"),
              "contents[0].request.schema: unknown schema 'x'");
  parse_fails(IFACE(V2, "{\"@type\":\"Component\",\"name\":\"c\",\"schema\":"
                        "\"dtmi:t:Missing;1\"}"),
              "contents[0].schema: interface 'dtmi:t:Missing;1' is not in the "
              "model file");
  /* a schema defined by @id that refers to itself */
  parse_fails("{" V2 ",\"@id\":\"dtmi:t:T;1\",\"@type\":\"Interface\",\"contents\":[" PROP(
                  "a", "\"dtmi:t:S;1\"") "],\"schemas\":[{\"@id\":\"dtmi:t:S;1\",\"@type\":"
                                         "\"Array\",\"elementSchema\":\"dtmi:t:S;1\"}]}",
              "schemas[0].elementSchema: schema 'dtmi:t:S;1' refers to itself");
  /* arrays: errors are placed by index; components inside components are
   * refused */
  parse_fails("[{" V2 ",\"@id\":\"dtmi:t:A;1\",\"@type\":\"Interface\","
              "\"contents\":[{\"@type\":\"Component\","
              "\"name\":\"b\",\"schema\":\"dtmi:t:B;1\"}]},{" V2
              ",\"@id\":\"dtmi:t:B;1\",\"@type\":\"Interface\","
              "\"contents\":[{\"@type\":\"Component\",\"name\":\"c\","
              "\"schema\":\"dtmi:t:A;1\"}]}]",
              "no root interface: every interface is used by another one");
  parse_fails("[{" V2 ",\"@id\":\"dtmi:t:A;1\",\"@type\":\"Interface\","
              "\"contents\":[{\"@type\":\"Component\","
              "\"name\":\"b\",\"schema\":\"dtmi:t:B;1\"}]},{" V2
              ",\"@id\":\"dtmi:t:B;1\",\"@type\":\"Interface\","
              "\"contents\":[{\"@type\":\"Component\",\"name\":\"c\","
              "\"schema\":\"dtmi:t:C;1\"}]},"
              "{" V2 ",\"@id\":\"dtmi:t:C;1\",\"@type\":\"Interface\"}]",
              "[1].contents[0]: component 'c' is inside a component's "
              "interface: IoT Central "
              "addresses components of the root interface only");
  parse_fails("[{" V2 ",\"@id\":\"dtmi:t:A;1\",\"@type\":\"Interface\"},{" V2
              ",\"@id\":\"dtmi:t:A;1\","
              "\"@type\":\"Interface\"}]",
              "[1].@id: 'dtmi:t:A;1' is defined twice");
}

static void a_missing_file_is_an_io_error(void **state) {
  (void)state;
  iotc__model *m = (iotc__model *)1;
  assert_int_equal(iotc__model_load("/nonexistent/model.json", &m, why), IOTC_ERR_IO);
  assert_null(m);
  assert_string_equal(why, "cannot open it: No such file or directory");
}

/* ---- values
 * -----------------------------------------------------------------------------
 */

static void primitives_accept_their_values_and_refuse_others(void **state) {
  (void)state;
  ACCEPTS("\"boolean\"", "true");
  REFUSES("\"boolean\"", "1", "p: expected boolean, got integer");
  ACCEPTS("\"integer\"", "-2147483648");
  REFUSES("\"integer\"", "2147483648", "p: 2147483648 is out of range for integer");
  REFUSES("\"integer\"", "1.5", "p: expected integer, got number");
  ACCEPTS("\"long\"", "9223372036854775807");
  REFUSES("\"long\"", "null", "p: expected integer, got null");
  ACCEPTS("\"double\"", "3");
  ACCEPTS("\"double\"", "-2.5e10");
  REFUSES("\"double\"", "\"3\"", "p: expected number, got string");
  ACCEPTS("\"float\"", "3.25");
  ACCEPTS("\"string\"", "\"\"");
  REFUSES("\"string\"", "{}", "p: expected string, got object");
  ACCEPTS("\"date\"", "\"2024-02-29\"");
  REFUSES("\"date\"", "\"2023-02-29\"", "p: '2023-02-29' is not a date (YYYY-MM-DD)");
  REFUSES("\"date\"", "20240101", "p: expected date, got integer");
  ACCEPTS("\"dateTime\"", "\"2024-01-31T23:59:59.123Z\"");
  ACCEPTS("\"dateTime\"", "\"2024-01-31T23:59:59+05:30\"");
  REFUSES("\"dateTime\"", "\"2024-01-31 23:59:59\"",
          "p: '2024-01-31 23:59:59' is not a dateTime "
          "(YYYY-MM-DDThh:mm:ss[.fff]Z|+hh:mm)");
  REFUSES("\"dateTime\"", "\"2024-01-31T23:59:59\"",
          "p: '2024-01-31T23:59:59' is not a dateTime "
          "(YYYY-MM-DDThh:mm:ss[.fff]Z|+hh:mm)");
  ACCEPTS("\"time\"", "\"08:30:00\"");
  ACCEPTS("\"time\"", "\"08:30:00.5Z\"");
  REFUSES("\"time\"", "\"24:00:00\"", "p: '24:00:00' is not a time (hh:mm:ss[.fff][Z|+hh:mm])");
  ACCEPTS("\"duration\"", "\"PT1H30M\"");
  ACCEPTS("\"duration\"", "\"P1Y2M3DT4H5M6.5S\"");
  ACCEPTS("\"duration\"", "\"P2W\"");
  REFUSES("\"duration\"", "\"PT\"", "p: 'PT' is not a duration (ISO 8601, e.g. PT1H30M)");
  REFUSES("\"duration\"", "\"P1H\"", "p: 'P1H' is not a duration (ISO 8601, e.g. PT1H30M)");
  REFUSES("\"duration\"", "\"PT1M1H\"", "p: 'PT1M1H' is not a duration (ISO 8601, e.g. PT1H30M)");
}

static void v3_primitives_check_their_ranges_and_formats(void **state) {
  (void)state;
  assert_int_equal(check_schema(3, "\"unsignedByte\"", "255"), IOTC_OK);
  assert_int_equal(check_schema(3, "\"unsignedByte\"", "-1"), IOTC_ERR_INVALID_ARG);
  assert_string_equal(why, "p: -1 is out of range for unsignedByte");
  assert_int_equal(check_schema(3, "\"short\"", "-32768"), IOTC_OK);
  assert_int_equal(check_schema(3, "\"unsignedInteger\"", "4294967295"), IOTC_OK);
  assert_int_equal(check_schema(3, "\"unsignedLong\"", "-5"), IOTC_ERR_INVALID_ARG);
  assert_int_equal(check_schema(3, "\"decimal\"", "1.25"), IOTC_OK);
  assert_int_equal(check_schema(3, "\"bytes\"", "\"aGVsbG8=\""), IOTC_OK);
  assert_int_equal(check_schema(3, "\"bytes\"", "\"aGVsbG8\""), IOTC_ERR_INVALID_ARG);
  assert_string_equal(why, "p: 'aGVsbG8' is not bytes (base64)");
  assert_int_equal(check_schema(3, "\"uuid\"", "\"123e4567-e89b-12d3-a456-42661417400\""),
                   IOTC_ERR_INVALID_ARG);
}

static void geometries_need_their_geojson_type(void **state) {
  (void)state;
  ACCEPTS("\"point\"", "{\"type\":\"Point\",\"coordinates\":[47.6,-122.1]}");
  REFUSES("\"point\"", "{\"type\":\"Polygon\",\"coordinates\":[]}",
          "p: expected a GeoJSON object with \"type\": \"Point\"");
  REFUSES("\"lineString\"", "{\"type\":\"LineString\"}",
          "p: expected GeoJSON \"coordinates\" (an array)");
}

static void enums_accept_only_their_values(void **state) {
  (void)state;
  const char *ints = "{\"@type\":\"Enum\",\"valueSchema\":\"integer\",\"enumValues\":["
                     "{\"name\":\"off\",\"enumValue\":0},{\"name\":\"on\",\"enumValue\":1}]}";
  ACCEPTS(ints, "1");
  REFUSES(ints, "2", "p: 2 is not one of the enum's values");
  REFUSES(ints, "\"on\"", "p: expected integer, got string");
  const char *strs = "{\"@type\":\"Enum\",\"valueSchema\":\"string\",\"enumValues\":["
                     "{\"name\":\"low\",\"enumValue\":\"lo\"},{\"name\":\"high\","
                     "\"enumValue\":\"hi\"}]}";
  ACCEPTS(strs, "\"hi\"");
  REFUSES(strs, "\"high\"", "p: 'high' is not one of the enum's values");
  REFUSES(strs, "1", "p: expected string, got integer");
}

static void objects_maps_and_arrays_check_every_member(void **state) {
  (void)state;
  const char *obj = "{\"@type\":\"Object\",\"fields\":[{\"name\":\"on\","
                    "\"schema\":\"boolean\"},"
                    "{\"name\":\"limits\",\"schema\":{\"@type\":\"Array\","
                    "\"elementSchema\":\"double\"}}]}";
  ACCEPTS(obj, "{}");
  ACCEPTS(obj, "{\"on\":true,\"limits\":[1,2.5]}");
  REFUSES(obj, "{\"on\":true,\"limits\":[1,\"x\"]}", "p.limits[1]: expected number, got string");
  REFUSES(obj, "{\"off\":true}", "p: unknown field 'off'");
  REFUSES(obj, "[]", "p: expected object, got array");
  const char *map = "{\"@type\":\"Map\",\"mapKey\":{\"name\":\"k\",\"schema\":\"string\"},"
                    "\"mapValue\":{\"name\":\"v\",\"schema\":\"integer\"}}";
  ACCEPTS(map, "{\"a\":1,\"b\":2}");
  REFUSES(map, "{\"a\":1,\"b\":true}", "p.b: expected integer, got boolean");
  REFUSES(map, "[1]", "p: expected object, got array");
  const char *arr = "{\"@type\":\"Array\",\"elementSchema\":{\"@type\":"
                    "\"Array\",\"elementSchema\":\"long\"}}";
  ACCEPTS(arr, "[[1],[],[2,3]]");
  REFUSES(arr, "[[1],[2,\"3\"]]", "p[1][1]: expected integer, got string");
  REFUSES(arr, "{}", "p: expected array, got object");
}

static void top_level_schemas_are_referenced_by_id(void **state) {
  (void)state;
  iotc__model *m =
      parse_ok("{" V3 ",\"@id\":\"dtmi:t:T;1\",\"@type\":\"Interface\",\"contents\":["
               "{\"@type\":\"Telemetry\",\"name\":\"mode\",\"schema\":\"dtmi:t:Mode;1\"}"
               ","
               "{\"@type\":\"Telemetry\",\"name\":\"modes\",\"schema\":\"dtmi:t:Modes;"
               "1\"}],"
               "\"schemas\":[{\"@id\":\"dtmi:t:Modes;1\",\"@type\":\"Array\","
               "\"elementSchema\":\"dtmi:t:Mode;1\"},"
               "{\"@id\":\"dtmi:t:Mode;1\",\"@type\":\"Enum\",\"valueSchema\":"
               "\"string\",\"enumValues\":["
               "{\"name\":\"a\",\"enumValue\":\"A\"}]}]}");
  const char *t = "{\"mode\":\"A\",\"modes\":[\"A\",\"A\"]}";
  assert_int_equal(telemetry(m, t), IOTC_OK);
  t = "{\"modes\":[\"A\",\"B\"]}";
  assert_int_equal(telemetry(m, t), IOTC_ERR_INVALID_ARG);
  assert_string_equal(why, "modes[1]: 'B' is not one of the enum's values");
  t = "[1]";
  assert_int_equal(telemetry(m, t), IOTC_ERR_INVALID_ARG);
  assert_string_equal(why, "expected a JSON object, got array");
  t = "{\"mode\":";
  assert_int_equal(telemetry(m, t), IOTC_ERR_INVALID_ARG);
  iotc__model_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_example_model_loads_with_its_contents),
      cmocka_unit_test(a_v3_interface_with_semantic_types_and_v3_schemas_parses),
      cmocka_unit_test(an_array_of_interfaces_gives_components_by_id),
      cmocka_unit_test(an_inline_component_interface_is_used),
      cmocka_unit_test(malformed_models_are_refused_with_where_and_what),
      cmocka_unit_test(a_missing_file_is_an_io_error),
      cmocka_unit_test(primitives_accept_their_values_and_refuse_others),
      cmocka_unit_test(v3_primitives_check_their_ranges_and_formats),
      cmocka_unit_test(geometries_need_their_geojson_type),
      cmocka_unit_test(enums_accept_only_their_values),
      cmocka_unit_test(objects_maps_and_arrays_check_every_member),
      cmocka_unit_test(top_level_schemas_are_referenced_by_id),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
