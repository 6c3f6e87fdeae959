/*
 * base64.h - RFC 4648 base64 (standard alphabet, with padding) for the key
 * material in IPC snapshots and gdoictl's output formats. Small on purpose:
 * the IPC half linked into media processes depends on jansson only.
 */
#ifndef IPC_BASE64_H
#define IPC_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Length of the encoding of n octets, without the terminating NUL. */
#define IPC_B64_LEN(n) ((((n) + 2) / 3) * 4)

/* Writes the NUL-terminated encoding of in[0..n) to out (IPC_B64_LEN(n)+1 octets). */
void ipc_b64_encode(const uint8_t *in, size_t n, char *out);
/* Strict decoding (padding required, no whitespace, no trailing bits set).
 * Returns the number of octets written (<= outmax) or -1. */
long ipc_b64_decode(const char *in, uint8_t *out, size_t outmax);

#endif
