/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Frame building shared by the test senders: a byte buffer written in
 * network order, and the Internet checksum. Define FRAME_MAX first.
 */
#ifndef TFC_TEST_FRAME_H
#define TFC_TEST_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifndef FRAME_MAX
#error "define FRAME_MAX (the largest frame the sender builds) before frame.h"
#endif

struct frame {
	uint8_t buf[FRAME_MAX];
	size_t len;
};

static inline void put8(struct frame *f, uint8_t v)
{
	f->buf[f->len++] = v;
}

static inline void put16(struct frame *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static inline void put_bytes(struct frame *f, const void *p, size_t n)
{
	memcpy(f->buf + f->len, p, n);
	f->len += n;
}

/* One's-complement sum of n bytes (an odd last byte padded with zero). */
static inline uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)(p[n - 1] << 8);
	return sum;
}

static inline uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

#endif /* TFC_TEST_FRAME_H */
