#!/usr/bin/env python3
"""Collects bench/run.sh's measurements into results.json and prints the table.

Every figure is reported with the baseline measured in the same run and their
ratio; repeated measurements give the median and the spread (min..max).
"""
import glob
import json
import os
import statistics
import sys

parts, out, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])


def load(name):
    with open(os.path.join(parts, name)) as f:
        return json.load(f)


def have(*names):
    """BENCH_ONLY runs some sections: the others are left out of the table."""
    return all(glob.glob(os.path.join(parts, n)) for n in names)


def series(pattern, key):
    vals = [json.load(open(p))[key] for p in sorted(glob.glob(os.path.join(parts, pattern)))]
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


res = {"goals": {}, "figures": {}}
rows = []


def row(what, value, baseline, ratio, goal, met):
    """met None: a figure without a goal."""
    rows.append((what, value, baseline, ratio, goal, "-" if met is None else "yes" if met else "NO"))
    if met is not None:
        res["goals"][what] = {"goal": goal, "met": met}


# 1. registration throughput
for dh in (19, 14):
    if not have("reg%d.*.json" % dh, "dh%d.*.json" % dh):
        continue
    reg = series("reg%d.*.json" % dh, "per_second")
    cpu = series("reg%d.*.json" % dh, "per_ks_cpu_s")
    bound = series("dh%d.*.json" % dh, "per_second")
    fails = sum(json.load(open(p))["failures"] for p in glob.glob(os.path.join(parts, "reg%d.*.json" % dh)))
    ratio = cpu["median"] / bound["median"]
    res["figures"]["registration_group%d" % dh] = {"registrations_per_s": reg, "per_ks_cpu_second": cpu,
                                                   "dh_bound_per_s": bound, "ratio": ratio, "failures": fails}
    # the bound per CPU second of the baseline process as well (both sides per CPU second)
    if all("per_cpu_second" in json.load(open(p)) for p in glob.glob(os.path.join(parts, "dh%d.*.json" % dh))):
        bcpu = series("dh%d.*.json" % dh, "per_cpu_second")
        res["figures"]["registration_group%d" % dh].update(dh_bound_per_cpu_s=bcpu, ratio_cpu=cpu["median"] / bcpu["median"])
    row("registrations, group %d: per s / per key-server CPU s" % dh,
        "%.0f (%.0f..%.0f) / %.0f (%.0f..%.0f)" % (reg["median"], reg["min"], reg["max"], cpu["median"], cpu["min"], cpu["max"]),
        "%.0f DH pairs/s" % bound["median"], "%.2f" % ratio, ">= 0.8 of bound", ratio >= 0.8)

# 1c. G-IKEv2 registrations next to GDOI's on the same key server, against the same DH bound
for dh in (19, 14):
    if not have("greg-g-ikev2%d.*.json" % dh, "greg-gdoi%d.*.json" % dh, "gdh%d.*.json" % dh):
        continue
    # per CPU second of the baseline process: a share of CPU 0 taken by others
    # lowers the wall-clock rate, not this one, nor registrations per key-server CPU second
    bound = series("gdh%d.*.json" % dh, "per_cpu_second")
    fig = {"dh_bound_per_cpu_s": bound, "dh_bound_per_s": series("gdh%d.*.json" % dh, "per_second")}
    for proto in ("gdoi", "g-ikev2"):
        pat = "greg-%s%d.*.json" % (proto, dh)
        fig[proto] = {"registrations_per_s": series(pat, "per_second"), "per_ks_cpu_second": series(pat, "per_ks_cpu_s"),
                      "failures": sum(json.load(open(p))["failures"] for p in glob.glob(os.path.join(parts, pat)))}
        fig[proto]["ratio"] = fig[proto]["per_ks_cpu_second"]["median"] / bound["median"]
    g, i = fig["gdoi"], fig["g-ikev2"]
    fig["g_ikev2_to_gdoi_per_ks_cpu_second"] = i["per_ks_cpu_second"]["median"] / g["per_ks_cpu_second"]["median"]
    res["figures"]["registration_gikev2_group%d" % dh] = fig
    r, c = i["registrations_per_s"], i["per_ks_cpu_second"]
    row("G-IKEv2 registrations, group %d: per s / per key-server CPU s" % dh,
        "%.0f (%.0f..%.0f) / %.0f (%.0f..%.0f), %d failed" % (r["median"], r["min"], r["max"], c["median"], c["min"], c["max"], i["failures"]),
        "%.0f DH pairs/CPU s; GDOI %.0f / %.0f (%.2f), %d failed" % (bound["median"], g["registrations_per_s"]["median"],
                                                          g["per_ks_cpu_second"]["median"], g["ratio"], g["failures"]),
        "%.2f (%.2f of GDOI)" % (i["ratio"], fig["g_ikev2_to_gdoi_per_ks_cpu_second"]), "-", None)

# 1b. all cores: workers = 2 against workers = 1, the load generator on the same cores
if glob.glob(os.path.join(parts, "scale1.*.json")):
    sc = {}
    for w in (1, 2):
        sc[w] = {k: series("scale%d.*.json" % w, k) for k in
                 ("per_second", "ks_cpu_s", "ks_cpu_share", "per_ks_cpu_s", "loadgen_cpu_share")}
        sc[w]["failures"] = sum(json.load(open(p))["failures"] for p in glob.glob(os.path.join(parts, "scale%d.*.json" % w)))
    r1, r2 = sc[1]["per_second"]["median"], sc[2]["per_second"]["median"]
    s1, s2 = sc[1]["ks_cpu_share"]["median"], sc[2]["ks_cpu_share"]["median"]
    raw, norm = r2 / r1, (r2 / s2) / (r1 / s1)
    eff = sc[2]["per_ks_cpu_s"]["median"] / sc[1]["per_ks_cpu_s"]["median"]
    res["figures"]["scaling_group19"] = {"workers_1": sc[1], "workers_2": sc[2], "raw_ratio": raw,
                                         "normalised_ratio": norm, "per_ks_cpu_second_ratio": eff}
    row("registrations, group 19, workers 2 / 1: raw (normalised by KS CPU share)",
        "%.0f/s, KS %.2f of %d cores, reg-load %.2f core" % (r2, s2, 2, sc[2]["loadgen_cpu_share"]["median"]),
        "%.0f/s, KS %.2f of 1 core, reg-load %.2f core" % (r1, s1, sc[1]["loadgen_cpu_share"]["median"]),
        "%.2f (%.2f)" % (raw, norm), ">= 1.8 normalised", norm >= 1.8 and not sc[1]["failures"] and not sc[2]["failures"])
    row("registrations per key-server CPU second, workers 2 / 1",
        "%.0f" % sc[2]["per_ks_cpu_s"]["median"], "%.0f" % sc[1]["per_ks_cpu_s"]["median"], "%.2f" % eff, "-", None)

# 2. latency
if have("latency.json", "latency-baseline.json"):
    lat, base = load("latency.json"), load("latency-baseline.json")
    res["figures"]["sidecar_first_key"] = {"sidecar": lat, "registration_alone": base,
                                           "ratio_p50": lat["p50_ms"] / base["latency_ms"]["p50"]}
    row("sidecar start -> first key, p50/p99 ms", "%.2f / %.2f" % (lat["p50_ms"], lat["p99_ms"]),
        "registration alone %.2f / %.2f" % (base["latency_ms"]["p50"], base["latency_ms"]["p99"]),
        "%.2f" % (lat["p50_ms"] / base["latency_ms"]["p50"]), "p50 < 5 ms", lat["p50_ms"] < 5)

# 3. rekey fan-out: 1000 members (goal), 10,000 (figure), against 1 member
for mode in ("multicast", "unicast"):
    if not have("fan-%s-1.json" % mode):
        continue
    one = load("fan-%s-1.json" % mode)
    res["figures"]["fanout_" + mode] = {"member_1": one}
    for n in (1000, 10000):
        if not have("fan-%s-%d.json" % (mode, n)):
            continue
        many = load("fan-%s-%d.json" % (mode, n))
        res["figures"]["fanout_" + mode]["members_%d" % n] = many
        ok = many["applied"] == many["members"] == n
        cpu = ", key server %.1f ms CPU" % many["ks_cpu_ms"] if "ks_cpu_ms" in many else ""
        row("push to %d members by %s, p50/p99 ms" % (n, mode),
            "%.1f / %.1f (%d of %d applied%s)" % (many["p50_ms"], many["p99_ms"], many["applied"], n, cpu),
            "1 member %.2f ms" % one["p50_ms"], "%.1f" % (many["p99_ms"] / max(one["p50_ms"], 0.001)),
            "p99 < 50 ms" if n == 1000 else "-", ok and many["p99_ms"] < 50 if n == 1000 else None)

# 3b. rekeys through loss: the share of members that took every push without registering again
for pct in (10, 30):
    if not os.path.exists(os.path.join(parts, "loss%d.json" % pct)):
        continue
    l = load("loss%d.json" % pct)
    res["figures"]["rekeys_loss_%d" % pct] = l
    again = l["ks_registrations"] - l["members"]
    goal = ">= 99.9 %" if pct == 10 else "-"
    row("%d rekeys to %d members, %d %% loss: took every push" % (l["rekeys"], l["members"], pct),
        "%.2f %% (%d of %d; %d re-registered, %d still served)" % (
            100 * l["share_every_push"], l["applied"], l["members"], again, l["members_served"]),
        "%d sends, %d ms apart: %d sent, %d resent, %d acked" % (l["retransmits"] + 1, l["interval_ms"],
                                                          l["pushes_sent"], l["pushes_retransmitted"], l["pushes_acked"]),
        "-", goal, l["share_every_push"] >= 0.999 if pct == 10 else None)

# 4. IPC
ipc = load("ipc.json") if have("ipc.json") else {}
if ipc:
    res["figures"]["ipc"] = ipc
    row("IPC get round trip p50/p99 us", "%.1f / %.1f" % (ipc["get"]["p50_us"], ipc["get"]["p99_us"]),
        "process echo %.1f / %.1f" % (ipc["baseline_process_echo"]["p50_us"], ipc["baseline_process_echo"]["p99_us"]),
        "%.1f" % (ipc["get"]["p50_us"] / max(ipc["baseline_process_echo"]["p50_us"], 0.001)), "p50 < 50 us",
        ipc["get"]["p50_us"] < 50)
if "fanout" in ipc:
    f = ipc["fanout"]
    row("snapshot to %d subscribers, ms" % f["subscribers"], "%.3f (%d got it)" % (f["first_to_last_ms"], f["received"]),
        "first subscriber = 0", "-", "< 2 ms", f["received"] == f["subscribers"] and f["first_to_last_ms"] < 2)

# 5. media path
media = load("media.json") if have("media.json") else {"cases": []}
if media["cases"]:
    res["figures"]["media"] = media
for c in media["cases"]:
    worst = min(c["ratio_protect"], c["ratio_unprotect"])
    row("SRTP profile %d, %d octets: bridge/raw" % (c["profile"], c["payload"]),
        "protect %.2f, unprotect %.2f" % (c["ratio_protect"], c["ratio_unprotect"]),
        "raw %.0f / %.0f pkt/s" % (c["raw_protect_pps"]["median"], c["raw_unprotect_pps"]["median"]),
        "%.2f" % worst, ">= 0.95", worst >= 0.95)

# 6. memory
if have("mem.json", "rest.json", "mem-load.json"):
    mem, rest, load_ = load("mem.json"), load("rest.json"), load("mem-load.json")
    per = (mem["rss_after_kib"] - mem["rss_before_kib"]) * 1024 / max(load_["registrations"], 1)
    res["figures"]["memory"] = {**mem, **rest, "registered": load_["registrations"], "bytes_per_member": per}
    row("key server bytes per registered member", "%.0f (%d registered)" % (per, load_["registrations"]),
        "RSS at start %d KiB" % mem["rss_before_kib"], "-", "< 4096", per < 4096 and load_["registrations"] == 10000)
    row("sidecar RSS at rest, KiB", "%d" % rest["sidecar_rss_kib"], "key server at rest %d KiB" % rest["keyserver_rss_kib"],
        "%.2f" % (rest["sidecar_rss_kib"] / rest["keyserver_rss_kib"]), "< 10 MiB", rest["sidecar_rss_kib"] < 10240)

# 7. several key servers on one PostgreSQL (bench/pg.sh)
if glob.glob(os.path.join(parts, "pg1.*.json")):
    sq, p1, p2 = (series(x, "per_second") for x in ("pgsq.*.json", "pg1.*.json", "pg2.*.json"))
    bound = series("pgdh.*.json", "per_second")
    fo = series("pgfail.*.json", "failover_ms")
    pfails = sum(json.load(open(p))["failures"] for p in glob.glob(os.path.join(parts, "pg[12].*.json")))
    res["figures"]["postgresql"] = {"sqlite_1_per_s": sq, "pg_1_per_s": p1, "pg_2_per_s": p2,
                                    "dh_bound_per_s": bound, "failover_ms": fo, "failures": pfails,
                                    "ratio_2_to_1": p2["median"] / p1["median"]}
    row("registrations/s, 1 key server on PostgreSQL", "%.0f (%.0f..%.0f)" % (p1["median"], p1["min"], p1["max"]),
        "SQLite %.0f, DH bound %.0f" % (sq["median"], bound["median"]), "%.2f" % (p1["median"] / sq["median"]),
        "-", None)
    row("registrations/s, 2 key servers on one PostgreSQL", "%.0f (%.0f..%.0f), %d failed" % (p2["median"], p2["min"], p2["max"], pfails),
        "1 key server %.0f" % p1["median"], "%.2f" % (p2["median"] / p1["median"]), "-", None)
    row("leader failover after kill -9, ms", "%.0f (%.0f..%.0f)" % (fo["median"], fo["min"], fo["max"]),
        "retry interval 500", "-", "<= 1000", fo["max"] <= 1000)

# 8. registrations while many SAs are held (bench/held.sh)
for what, many, few, label in (
        ("GDOI registration with INITIAL-CONTACT, 10,000 Phase 1 SAs held", "held-gdoi-ic.*.json",
         "held-gdoi-plain.*.json", "without INITIAL-CONTACT"),
        ("G-IKEv2 registration, 4,000 members holding IKE SAs", "held-gikev2-4000.*.json",
         "held-gikev2-256.*.json", "256 members")):
    if not glob.glob(os.path.join(parts, many)):
        continue
    m, f = series(many, "us_per_registration"), series(few, "us_per_registration")
    ratio = m["median"] / f["median"]
    res["figures"][many.split(".")[0].replace("-", "_")] = {"us_per_registration": m, "baseline_us": f, "ratio": ratio}
    row(what + ", key-server µs each", "%.0f (%.0f..%.0f)" % (m["median"], m["min"], m["max"]),
        "%s %.0f" % (label, f["median"]), "%.2f" % ratio, "<= 1.2", ratio <= 1.2)

res["repetitions"] = reps
with open(out, "w") as f:
    json.dump(res, f, indent=2)
w = [max(len(str(r[i])) for r in rows + [("figure", "value", "baseline", "ratio", "goal", "met")]) for i in range(6)]
for r in [("figure", "value", "baseline", "ratio", "goal", "met")] + rows:
    print("  ".join(str(v).ljust(w[i]) for i, v in enumerate(r)))
print("results: " + out)
