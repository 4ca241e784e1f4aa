// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Splits classic pcap files (linktype 1, Ethernet) into one file per frame,
 * the seed corpus of the fuzzer. Each seed holds the captured bytes of one
 * record and is named after its capture and frame number. Frames under 14
 * bytes, other link types and damaged records are skipped with a note; a
 * damaged file ends that file only.
 *
 * Usage: pcap_seeds OUTDIR FILE.pcap...
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCAP_MAGIC_US  0xa1b2c3d4 /* microsecond timestamps */
#define PCAP_MAGIC_NS  0xa1b23c4d /* nanosecond timestamps */
#define LINKTYPE_ETHER 1
#define MAX_RECORD     (256 * 1024)
#define MIN_FRAME      14

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

static int write_seed(const char *dir, const char *pcap, unsigned long n, const uint8_t *b,
		      size_t len)
{
	char path[4096];
	FILE *f;
	size_t stem = strlen(base_name(pcap));

	if (stem > 5 && !strcmp(base_name(pcap) + stem - 5, ".pcap"))
		stem -= 5;
	snprintf(path, sizeof(path), "%s/%.*s-%05lu", dir, (int)stem, base_name(pcap), n);
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

/* Returns how many seeds the file gave, or -1 when a seed could not be written. */
static long split(const char *dir, const char *pcap, uint8_t *buf)
{
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
		if (write_seed(dir, pcap, frame, buf, caplen)) {
			fclose(f);
			return -1;
		}
		seeds++;
	}
	fclose(f);
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
