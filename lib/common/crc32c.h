/* SPDX-License-Identifier: MIT */
/* CRC-32C (Castagnoli, reflected, as in iSCSI and ext4): the checksum of each record of the
 * persistent queue (seglog.c). Table-driven, one byte at a time: records are small and the disk
 * write dominates. Thread-safe (the table is a constant). */
#ifndef IOTC_COMMON_CRC32C_H
#define IOTC_COMMON_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/** Continue the CRC-32C @p crc (0 to start) over @p len bytes of @p data. */
uint32_t iotc__crc32c(uint32_t crc, const void *data, size_t len);

#endif
