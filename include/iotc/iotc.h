/* SPDX-License-Identifier: MIT */
/**
 * @file iotc.h
 * @brief Umbrella header of iotc: include this one.
 */
/**
 * @mainpage iotc: Azure IoT Central device client for C
 *
 * Include iotc.h. A device is one ::iotc_client (client.h): configure it, register handlers,
 * connect, then send telemetry and report properties (many clients may share the threads of
 * one ::iotc_executor, executor.h); files go to the application's storage
 * with upload.h. Provisioning alone is in dps.h; the
 * dependency-free topic layer for other MQTT stacks in hub_topic.h and dps_topic.h; SAS tokens
 * and derived keys in sas.h; logging in log.h; results and errors in result.h; the version in
 * version.h. Each header states who owns what and which thread may call what.
 */
#ifndef IOTC_IOTC_H
#define IOTC_IOTC_H

#include "iotc/result.h"
#include "iotc/version.h"
#include "iotc/log.h"
#include "iotc/sas.h"
#include "iotc/executor.h"
#include "iotc/client.h"
#include "iotc/persist.h"
#include "iotc/upload.h"
#include "iotc/dps.h"
#include "iotc/hub_topic.h"
#include "iotc/dps_topic.h"

#endif
