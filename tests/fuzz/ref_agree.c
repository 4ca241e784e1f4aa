// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Checks the fuzzer's oracle, ref_parser.c, against the two other oracles:
 * every case of the BPF case table (tests/bpf/cases.c) and, per capture of
 * the pcap corpus, the tshark figures in expected.json: packets and captured
 * bytes per source address, non-IP frames, and packets per flow (family,
 * addresses, protocol, ports). Prints one cmocka-style result line per check,
 * as scripts/test-summary.sh counts them.
 *
 * The one deliberate difference: past TFC_MAX_IPV6_EXT extension headers
 * ref_parser stops (ipv6_ext_limit: the flow's protocol is the header it
 * stopped at, ports 0) where tshark walks on. A capture may list such flows
 * in KNOWN_EXT_LIMIT; they are checked to differ exactly that way.
 *
 * Usage: ref_agree EXPECTED.json CORPUS_DIR
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cases.h"
#include "ref_parser.h"

#define MAX_KEYS   4096
#define MAX_RECORD (256 * 1024)

/* One aggregate: per source address, or per flow (the key as text). */
struct agg {
	char key[200];
	unsigned long long packets, bytes;
};

struct tally {
	struct agg src[MAX_KEYS], flow[MAX_KEYS];
	struct agg limited[MAX_KEYS]; /* ipv6_ext_limit frames, by addresses only */
	int nsrc, nflow, nlimited, ext_limit_flows;
	unsigned long long not_ip; /* not counted under an address, for any reason */
};

static int failed, passed;

static void result(bool ok, const char *name, const char *why)
{
	if (ok) {
		passed++;
		printf("[       OK ] %s\n", name);
		return;
	}
	failed++;
	printf("[  FAILED  ] %s: %s\n", name, why);
}

static bool cases_agree(const struct frame_case *c, char *why, size_t n)
{
	const struct expect *w = &c->want;
	struct ref_verdict v;
	uint8_t remark = w->note == NOTE_NONE ? REF_NO_REMARK : w->note;

	ref_parse(c->pkt.data, c->pkt.len, 0, &v);
	if (v.counted != w->counted || (!v.counted && v.reason != w->stat) ||
	    (v.counted &&
	     (v.remark != remark || v.family != w->family || v.proto != w->proto ||
	      v.sport != w->sport || v.dport != w->dport || v.tcp_flags != w->tcp_flags ||
	      memcmp(v.src, w->src, 16) || memcmp(v.dst, w->dst, 16)))) {
		ref_describe(&v, why, n);
		return false;
	}
	return true;
}

static int check_cases(void)
{
	struct frame_case *cases;
	int n = cases_build(&cases), bad = 0;
	char why[256], first[512] = "";

	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (!cases_agree(&cases[i], why, sizeof(why)) && !bad++)
			snprintf(first, sizeof(first), "case %s: reference says %s", cases[i].name,
				 why);
	printf("ref_agree: %d cases of tests/bpf/cases.c, %d differ%s%s\n", n, bad,
	       bad ? "; first: " : "", first);
	result(!bad, "ref_agree: case table", first);
	free(cases);
	return 0;
}

static struct agg *agg_add(struct agg *a, int *n, const char *key, unsigned long long bytes)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp(a[i].key, key)) {
			a[i].packets++;
			a[i].bytes += bytes;
			return &a[i];
		}
	if (*n == MAX_KEYS)
		return NULL;
	snprintf(a[*n].key, sizeof(a[*n].key), "%s", key);
	a[*n].packets = 1;
	a[*n].bytes = bytes;
	return &a[(*n)++];
}

static uint32_t get32(const uint8_t *b, bool swap)
{
	uint32_t v =
		(uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;

	return swap ? __builtin_bswap32(v) : v;
}

static void tally_frame(struct tally *t, const uint8_t *b, uint32_t caplen, uint32_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], key[200];
	struct ref_verdict v;
	int af;

	ref_parse(b, caplen, 0, &v);
	if (!v.counted) {
		t->not_ip++;
		return;
	}
	af = v.family == 6 ? AF_INET6 : AF_INET;
	inet_ntop(af, v.src, s, sizeof(s));
	inet_ntop(af, v.dst, d, sizeof(d));
	agg_add(t->src, &t->nsrc, s, caplen);
	if (v.remark == TFC_STAT_IPV6_EXT_LIMIT) {
		snprintf(key, sizeof(key), "v%u %s > %s", v.family, s, d);
		agg_add(t->limited, &t->nlimited, key, len);
		return;
	}
	snprintf(key, sizeof(key), "v%u %s > %s proto %u ports %u > %u", v.family, s, d, v.proto,
		 v.sport, v.dport);
	agg_add(t->flow, &t->nflow, key, len);
}

/* Reads a classic Ethernet pcap through ref_parser; -1 when it cannot. */
static int tally_pcap(const char *path, struct tally *t, uint8_t *buf)
{
	uint8_t hdr[24], rec[16];
	FILE *f = fopen(path, "rb");
	bool swap;
	int rc = -1;

	if (!f)
		return -1;
	if (fread(hdr, 1, sizeof(hdr), f) != sizeof(hdr))
		goto out;
	swap = get32(hdr, false) != 0xa1b2c3d4 && get32(hdr, false) != 0xa1b23c4d;
	if ((get32(hdr + 20, swap) & 0x0fffffff) != 1)
		goto out;
	while (fread(rec, 1, sizeof(rec), f) == sizeof(rec)) {
		uint32_t caplen = get32(rec + 8, swap), len = get32(rec + 12, swap);

		if (caplen > MAX_RECORD || fread(buf, 1, caplen, f) != caplen)
			break;
		tally_frame(t, buf, caplen, len);
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

static const struct agg *find(const struct agg *a, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(a[i].key, key))
			return &a[i];
	return NULL;
}

static long long jint(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : -1;
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

/* tshark's per-source packets and captured bytes, and its non-IP count. */
static bool srcs_agree(struct json_object *exp, const struct tally *t, char *why, size_t n)
{
	struct json_object *per;
	int seen = 0;

	json_object_object_get_ex(exp, "per_src_ip", &per);
	json_object_object_foreach(per, addr, o)
	{
		const struct agg *a = find(t->src, t->nsrc, addr);

		seen++;
		if (!a || (long long)a->packets != jint(o, "packets") ||
		    (long long)a->bytes != jint(o, "l2_cap_bytes")) {
			snprintf(why, n,
				 "source %s: tshark %lld pkt/%lld B, reference %llu pkt/%llu B",
				 addr, jint(o, "packets"), jint(o, "l2_cap_bytes"),
				 a ? a->packets : 0ULL, a ? a->bytes : 0ULL);
			return false;
		}
	}
	if (seen != t->nsrc) {
		snprintf(why, n, "tshark has %d source addresses, the reference %d", seen, t->nsrc);
		return false;
	}
	/* tshark's non-IP frames: every frame without a decodable IP header. */
	if ((long long)t->not_ip != jint(exp, "non_ip_frames")) {
		snprintf(why, n, "frames not counted by address: tshark %lld, reference %llu",
			 jint(exp, "non_ip_frames"), t->not_ip);
		return false;
	}
	return true;
}

/*
 * A tshark flow the reference has under ipv6_ext_limit instead (the
 * deliberate limit): taken from those frames, matched by addresses.
 */
static bool ext_limited(struct tally *t, struct json_object *o)
{
	char key[200];

	snprintf(key, sizeof(key), "v%lld %s > %s", jint(o, "family"), jstr(o, "src"),
		 jstr(o, "dst"));
	for (int i = 0; i < t->nlimited; i++)
		if (!strcmp(t->limited[i].key, key) &&
		    (long long)t->limited[i].packets >= jint(o, "packets")) {
			t->limited[i].packets -= (unsigned long long)jint(o, "packets");
			t->limited[i].bytes -= (unsigned long long)jint(o, "l2_bytes");
			t->ext_limit_flows++;
			return true;
		}
	return false;
}

/* tshark's flows, packets and bytes, by family, addresses, protocol and ports. */
static bool flows_agree(struct json_object *exp, struct tally *t, char *why, size_t n)
{
	struct json_object *flows;
	size_t nf;
	char key[200];

	json_object_object_get_ex(exp, "flows", &flows);
	nf = json_object_array_length(flows);
	for (size_t i = 0; i < nf; i++) {
		struct json_object *o = json_object_array_get_idx(flows, i);
		const struct agg *a;

		snprintf(key, sizeof(key), "v%lld %s > %s proto %lld ports %lld > %lld",
			 jint(o, "family"), jstr(o, "src"), jstr(o, "dst"), jint(o, "proto"),
			 jint(o, "sport"), jint(o, "dport"));
		a = find(t->flow, t->nflow, key);
		if (!a && ext_limited(t, o))
			continue;
		if (!a || (long long)a->packets != jint(o, "packets") ||
		    (long long)a->bytes != jint(o, "l2_bytes")) {
			snprintf(why, n,
				 "flow %s: tshark %lld pkt/%lld B, reference %llu pkt/%llu B", key,
				 jint(o, "packets"), jint(o, "l2_bytes"), a ? a->packets : 0ULL,
				 a ? a->bytes : 0ULL);
			return false;
		}
	}
	if ((int)nf != t->nflow + t->ext_limit_flows) {
		snprintf(why, n, "tshark has %zu flows, the reference %d", nf,
			 t->nflow + t->ext_limit_flows);
		return false;
	}
	for (int i = 0; i < t->nlimited; i++)
		if (t->limited[i].packets) {
			snprintf(why, n, "%llu ipv6_ext_limit frames %s in no tshark flow",
				 t->limited[i].packets, t->limited[i].key);
			return false;
		}
	return true;
}

static int check_corpus(const char *expected, const char *dir)
{
	struct json_object *root = json_object_from_file(expected);
	uint8_t *buf = malloc(MAX_RECORD);
	struct tally *t = malloc(sizeof(*t));
	int rc = -1, captures = 0;

	if (!root || !buf || !t) {
		fprintf(stderr, "ref_agree: cannot read %s: %s\n", expected,
			root ? "out of memory" : json_util_get_last_err());
		goto out;
	}
	json_object_object_foreach(root, name, exp)
	{
		char path[4096], why[512] = "", test[300];
		bool ok;

		memset(t, 0, sizeof(*t));
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		snprintf(test, sizeof(test), "ref_agree: %s", name);
		if (tally_pcap(path, t, buf)) {
			result(false, test, "cannot read it as a classic Ethernet pcap");
			continue;
		}
		captures++;
		ok = srcs_agree(exp, t, why, sizeof(why)) && flows_agree(exp, t, why, sizeof(why));
		if (ok && t->ext_limit_flows)
			printf("ref_agree: %s: %d flow(s) past %d IPv6 extension headers, under "
			       "ipv6_ext_limit by design\n",
			       name, t->ext_limit_flows, TFC_MAX_IPV6_EXT);
		result(ok, test, why);
	}
	printf("ref_agree: %d captures of %s compared with tshark\n", captures, expected);
	rc = 0;
out:
	json_object_put(root);
	free(buf);
	free(t);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: ref_agree EXPECTED.json CORPUS_DIR\n");
		return 2;
	}
	if (check_cases() || check_corpus(argv[1], argv[2]))
		return 1;
	if (failed) {
		printf("[  PASSED  ] %d test(s).\n[  FAILED  ] %d test(s), listed above.\n", passed,
		       failed);
		return 1;
	}
	printf("[  PASSED  ] %d test(s).\n", passed);
	return 0;
}
