/* SPDX-License-Identifier: MIT */
/**
 * @file iotc.h
 * @brief Umbrella header of iotc: include this one.
 */
#ifndef IOTC_IOTC_H
#define IOTC_IOTC_H

#include "iotc/result.h"
#include "iotc/version.h"
#include "iotc/log.h"
#include "iotc/sas.h"
#include "iotc/client.h"
#include "iotc/dps.h"
#include "iotc/hub_topic.h"
#include "iotc/dps_topic.h"

#endif
