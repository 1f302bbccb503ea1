/* SPDX-License-Identifier: MIT */
/* The host's platform in the OCI/Go names images and registries use. */
#pragma once

/* GOARCH of the architecture this is built for: "amd64", "arm64", ...
 * ("unknown" for one without a Go name). */
const char *cm_host_arch(void);
