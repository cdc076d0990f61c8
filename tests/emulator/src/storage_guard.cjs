// SPDX-License-Identifier: MIT
// Preloaded into the Azurite child (storage.mjs): it exits when the emulator that started it is
// gone, even one killed with SIGKILL, so no storage process outlives a run.
'use strict';
const parent = process.ppid;
setInterval(() => {
  try {
    process.kill(parent, 0);
  } catch {
    process.exit(0);
  }
}, 1000).unref();
