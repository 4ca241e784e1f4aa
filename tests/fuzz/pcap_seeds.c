// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Splits classic pcap files (linktype 1, Ethernet) into seeds for the fuzzer
 * (format in scenario.h): one per frame, named after its capture and frame
 * number, with a scenario that varies with the frame number (count-by, tight
 * IP map, offloaded tag, GSO) so that the seeds reach every variant; and one
 * per capture with its first 8 frames in sequence, into a tight IP map with
 * one free entry (named CAPTURE-seq). Frames under 14 bytes, other link
 * types and damaged records are skipped with a note; a damaged file ends
 * that file only.
 *
 * Usage: pcap_seeds OUTDIR FILE.pcap...
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

#define PCAP_MAGIC_US  0xa1b2c3d4 /* microsecond timestamps */
#define PCAP_MAGIC_NS  0xa1b23c4d /* nanosecond timestamps */
#define LINKTYPE_ETHER 1
#define MAX_RECORD     (256 * 1024)
#define MIN_FRAME      14
#define MAX_SEED       10240 /* FUZZ_MAX_LEN */
#define GSO_SIZE       1448  /* a TCP MSS on a 1500-byte MTU */

/* A sequence seed under construction: header, then length-prefixed frames. */
struct seq {
	uint8_t b[MAX_SEED];
	size_t len;
	int frames;
};

static uint32_t get32(const uint8_t *b, int swap)
{
	uint32_t le =
		(uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	uint32_t be =
		(uint32_t)b[3] | (uint32_t)b[2] << 8 | (uint32_t)b[1] << 16 | (uint32_t)b[0] << 24;

	return swap ? be : le;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* The scenario bytes of a one-frame seed, varied by frame number. */
static void scenario_of(unsigned long n, uint8_t *hdr)
{
	uint8_t segs = n % 6 == 0 ? (uint8_t)(2 + n % 44) : 0;

	hdr[0] = (uint8_t)(n % 3);
	if (n % 4 == 0)
		hdr[0] |= FZ_B0_TIGHT;
	if (n % 5 == 0)
		hdr[0] |= FZ_B0_VLAN;
	hdr[1] = (uint8_t)(n % (FZ_TIGHT_ENTRIES + 1));
	hdr[2] = segs;
	hdr[3] = segs ? GSO_SIZE >> 8 : 0;
	hdr[4] = segs ? GSO_SIZE & 0xff : 0;
}

static void put_frame(uint8_t *at, const uint8_t *b, size_t len)
{
	at[0] = (uint8_t)(len >> 8);
	at[1] = (uint8_t)len;
	memcpy(at + FZ_LEN_BYTES, b, len);
}

static int write_seed(const char *dir, const char *pcap, const char *suffix, const uint8_t *b,
		      size_t len)
{
	char path[4096];
	FILE *f;
	size_t stem = strlen(base_name(pcap));

	if (stem > 5 && !strcmp(base_name(pcap) + stem - 5, ".pcap"))
		stem -= 5;
	snprintf(path, sizeof(path), "%s/%.*s-%s", dir, (int)stem, base_name(pcap), suffix);
	f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "pcap_seeds: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fwrite(b, 1, len, f) != len) {
		fprintf(stderr, "pcap_seeds: %s: short write\n", path);
		fclose(f);
		return -1;
	}
	return fclose(f) ? -1 : 0;
}

static int one_seed(const char *dir, const char *pcap, unsigned long n, const uint8_t *b,
		    size_t len)
{
	static uint8_t seed[FZ_HDR_BYTES + FZ_LEN_BYTES + MAX_RECORD];
	char suffix[32];

	scenario_of(n, seed);
	put_frame(seed + FZ_HDR_BYTES, b, len);
	snprintf(suffix, sizeof(suffix), "%05lu", n);
	return write_seed(dir, pcap, suffix, seed, FZ_HDR_BYTES + FZ_LEN_BYTES + len);
}

/* Appends a frame to the sequence seed while it has room for 8 and fits. */
static void seq_add(struct seq *sq, const uint8_t *b, size_t len)
{
	if (sq->frames == FZ_MAX_FRAMES || sq->len + FZ_LEN_BYTES + len > sizeof(sq->b))
		return;
	put_frame(sq->b + sq->len, b, len);
	sq->len += FZ_LEN_BYTES + len;
	sq->frames++;
}

/* Returns how many seeds the file gave, or -1 when a seed could not be written. */
static long split(const char *dir, const char *pcap, uint8_t *buf)
{
	/* Default count-by, tight IP map with one free entry: the second address is full. */
	struct seq sq = {.b = {FZ_B0_TIGHT, 1}, .len = FZ_HDR_BYTES};
	uint8_t hdr[24], rec[16];
	unsigned long frame = 0, seeds = 0, skipped = 0;
	uint32_t magic, link;
	int swap;
	FILE *f = fopen(pcap, "rb");

	if (!f) {
		fprintf(stderr, "pcap_seeds: %s: %s\n", pcap, strerror(errno));
		return 0;
	}
	if (fread(hdr, 1, sizeof(hdr), f) != sizeof(hdr)) {
		fprintf(stderr, "pcap_seeds: %s: no pcap header, skipped\n", pcap);
		fclose(f);
		return 0;
	}
	magic = get32(hdr, 0);
	swap = magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS;
	magic = get32(hdr, swap);
	link = get32(hdr + 20, swap) & 0x0fffffff; /* upper bits: FCS length flags */
	if ((magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS) || link != LINKTYPE_ETHER) {
		fprintf(stderr, "pcap_seeds: %s: not a classic Ethernet pcap (pcapng?), skipped\n",
			pcap);
		fclose(f);
		return 0;
	}
	while (fread(rec, 1, sizeof(rec), f) == sizeof(rec)) {
		uint32_t caplen = get32(rec + 8, swap);

		frame++;
		if (caplen > MAX_RECORD) {
			fprintf(stderr,
				"pcap_seeds: %s: frame %lu: caplen %u, rest of file skipped\n",
				pcap, frame, caplen);
			break;
		}
		if (fread(buf, 1, caplen, f) != caplen) {
			fprintf(stderr, "pcap_seeds: %s: frame %lu cut short by end of file\n",
				pcap, frame);
			break;
		}
		if (caplen < MIN_FRAME) {
			skipped++;
			continue;
		}
		if (one_seed(dir, pcap, frame, buf, caplen)) {
			fclose(f);
			return -1;
		}
		seq_add(&sq, buf, caplen);
		seeds++;
	}
	fclose(f);
	if (sq.frames) {
		sq.b[0] |= (uint8_t)((sq.frames - 1) << FZ_B0_FRAMES_SHIFT);
		if (write_seed(dir, pcap, "seq", sq.b, sq.len))
			return -1;
		seeds++;
	}
	if (skipped)
		fprintf(stderr, "pcap_seeds: %s: %lu frames under %d bytes skipped\n", pcap,
			skipped, MIN_FRAME);
	return (long)seeds;
}

int main(int argc, char **argv)
{
	uint8_t *buf;
	long total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: pcap_seeds OUTDIR FILE.pcap...\n");
		return 2;
	}
	buf = malloc(MAX_RECORD);
	if (!buf) {
		fprintf(stderr, "pcap_seeds: out of memory\n");
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		long n = split(argv[1], argv[i], buf);

		if (n < 0) {
			free(buf);
			return 1;
		}
		total += n;
	}
	free(buf);
	printf("pcap_seeds: %ld seed frames from %d capture(s) in %s\n", total, argc - 2, argv[1]);
	return 0;
}
