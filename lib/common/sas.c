/* SPDX-License-Identifier: MIT */
/* SAS tokens and derived device keys (include/iotc/sas.h). */
#include "iotc/sas.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/base64.h"
#include "common/hmac.h"
#include "common/log.h"
#include "common/secret.h"
#include "common/url.h"

/* Every intermediate that holds key material or a signature lives here, so one wipe at the
 * single exit of each function clears all of it. */
typedef struct sas_secrets {
  unsigned char key[IOTC_SAS_MAX_KEY_LEN / 4 * 3];
  size_t key_len;
  unsigned char mac[IOTC__SHA256_LEN];
  char sig[IOTC_DERIVED_KEY_SIZE];     /* base64 of the MAC */
  char sig_enc[3 * IOTC_DERIVED_KEY_SIZE]; /* the same, percent-encoded */
} sas_secrets;

static iotc_result check_field(const char *s, size_t *len) {
  if (s == NULL) {
    return IOTC_ERR_INVALID_ARG;
  }
  *len = strnlen(s, IOTC_SAS_MAX_FIELD_LEN + 1);
  return (*len == 0 || *len > IOTC_SAS_MAX_FIELD_LEN) ? IOTC_ERR_INVALID_ARG : IOTC_OK;
}

static iotc_result decode_key(const char *key_base64, sas_secrets *s) {
  if (key_base64 == NULL) {
    return IOTC_ERR_INVALID_ARG;
  }
  size_t len = strnlen(key_base64, IOTC_SAS_MAX_KEY_LEN + 1);
  if (len == 0 || len > IOTC_SAS_MAX_KEY_LEN) {
    return IOTC_ERR_INVALID_ARG;
  }
  return iotc__base64_decode(key_base64, len, s->key, sizeof s->key, &s->key_len);
}

static size_t append(char *dst, size_t at, const char *src, size_t len) {
  memcpy(dst + at, src, len);
  return at + len;
}

static size_t append_str(char *dst, size_t at, const char *src) {
  return append(dst, at, src, strlen(src));
}

/* Writes the percent-encoded "{first}/{collection}/{id}" (the sr value), then "\n{se}", into
 * @p out, which holds the worst case (every byte escaped). */
static iotc_result string_to_sign(const char *first, size_t first_len, const char *collection,
                                  const char *id, size_t id_len, const char *se, char *out,
                                  size_t *sr_len, size_t *sts_len) {
  size_t n = 0;
  iotc_result rc = iotc__url_encode(first, first_len, out, 3 * first_len + 1, &n);
  if (rc != IOTC_OK) {
    return rc;
  }
  n = append_str(out, n, "%2F");
  n = append_str(out, n, collection);
  n = append_str(out, n, "%2F");
  size_t id_enc = 0;
  rc = iotc__url_encode(id, id_len, out + n, 3 * id_len + 1, &id_enc);
  if (rc != IOTC_OK) {
    return rc;
  }
  *sr_len = n + id_enc;
  out[*sr_len] = '\n';
  *sts_len = append_str(out, *sr_len + 1, se);
  return IOTC_OK;
}

static iotc_result build_token(const char *first, const char *collection, const char *id,
                               const char *key_base64, uint64_t expiry_epoch, const char *skn,
                               char *buf, size_t size, size_t *out_len) {
  size_t first_len = 0;
  size_t id_len = 0;
  iotc_result rc = check_field(first, &first_len);
  if (rc == IOTC_OK) {
    rc = check_field(id, &id_len);
  }
  if (rc == IOTC_OK && buf == NULL && size > 0) {
    rc = IOTC_ERR_INVALID_ARG;
  }
  if (rc != IOTC_OK) {
    return rc;
  }

  sas_secrets s;
  rc = decode_key(key_base64, &s);
  if (rc == IOTC_OK) {
    char se[24];
    int se_len = snprintf(se, sizeof se, "%" PRIu64, expiry_epoch);
    char sts[3 * IOTC_SAS_MAX_FIELD_LEN * 2 + 64 + sizeof se];
    size_t sr_len = 0;
    size_t sts_len = 0;
    size_t sig_len = 0;
    size_t sig_enc_len = 0;
    rc = string_to_sign(first, first_len, collection, id, id_len, se, sts, &sr_len, &sts_len);
    if (rc == IOTC_OK) {
      rc = iotc__hmac_sha256(s.key, s.key_len, sts, sts_len, s.mac);
    }
    if (rc == IOTC_OK) {
      rc = iotc__base64_encode(s.mac, sizeof s.mac, s.sig, sizeof s.sig, &sig_len);
    }
    if (rc == IOTC_OK) {
      rc = iotc__url_encode(s.sig, sig_len, s.sig_enc, sizeof s.sig_enc, &sig_enc_len);
    }
    if (rc == IOTC_OK) {
      static const char head[] = "SharedAccessSignature sr=";
      size_t need = (sizeof head - 1) + sr_len + 5 /* &sig= */ + sig_enc_len + 4 /* &se= */ +
                    (size_t)se_len + (skn ? 5 /* &skn= */ + strlen(skn) : 0);
      if (out_len) {
        *out_len = need;
      }
      if (need + 1 > size) {
        rc = IOTC_ERR_BUFFER_TOO_SMALL;
      } else {
        size_t n = append(buf, 0, head, sizeof head - 1);
        n = append(buf, n, sts, sr_len);
        n = append_str(buf, n, "&sig=");
        n = append(buf, n, s.sig_enc, sig_enc_len);
        n = append_str(buf, n, "&se=");
        n = append(buf, n, se, (size_t)se_len);
        if (skn) {
          n = append_str(buf, n, "&skn=");
          n = append_str(buf, n, skn);
        }
        buf[n] = '\0';
      }
    }
  }
  iotc__wipe(&s, sizeof s);
  return rc;
}

/* Bad arguments get a log line naming the problem, never the key. */
static iotc_result refused(const char *fn, iotc_result rc) {
  if (rc == IOTC_ERR_INVALID_ARG) {
    IOTC_LOGE("%s: an argument is NULL, empty or too long", fn);
  } else if (rc == IOTC_ERR_BAD_ENCODING) {
    IOTC_LOGE("%s: the key is not canonical base64", fn);
  }
  return rc;
}

iotc_result iotc_sas_hub_token(const char *hub_host, const char *device_id,
                               const char *key_base64, uint64_t expiry_epoch, char *buf,
                               size_t size, size_t *out_len) {
  return refused("iotc_sas_hub_token", build_token(hub_host, "devices", device_id, key_base64,
                                                  expiry_epoch, NULL, buf, size, out_len));
}

iotc_result iotc_sas_dps_token(const char *id_scope, const char *registration_id,
                               const char *key_base64, uint64_t expiry_epoch, char *buf,
                               size_t size, size_t *out_len) {
  return refused("iotc_sas_dps_token", build_token(id_scope, "registrations", registration_id,
                                                  key_base64, expiry_epoch, "registration", buf,
                                                  size, out_len));
}

iotc_result iotc_derive_device_key(const char *group_key_base64, const char *registration_id,
                                   char *buf, size_t size, size_t *out_len) {
  size_t id_len = 0;
  iotc_result rc = check_field(registration_id, &id_len);
  if (rc == IOTC_OK && buf == NULL && size > 0) {
    rc = IOTC_ERR_INVALID_ARG;
  }
  if (rc != IOTC_OK) {
    return refused("iotc_derive_device_key", rc);
  }
  sas_secrets s;
  rc = decode_key(group_key_base64, &s);
  if (rc == IOTC_OK) {
    if (out_len) {
      *out_len = IOTC_DERIVED_KEY_SIZE - 1;
    }
    if (size < IOTC_DERIVED_KEY_SIZE) {
      rc = IOTC_ERR_BUFFER_TOO_SMALL;
    } else {
      rc = iotc__hmac_sha256(s.key, s.key_len, registration_id, id_len, s.mac);
      if (rc == IOTC_OK) {
        rc = iotc__base64_encode(s.mac, sizeof s.mac, buf, size, NULL);
      }
    }
  }
  iotc__wipe(&s, sizeof s);
  return refused("iotc_derive_device_key", rc);
}
