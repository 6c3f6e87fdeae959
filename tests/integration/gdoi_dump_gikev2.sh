#!/usr/bin/env bash
# gdoi_dump_gikev2.sh - gdoi-dump on a real G-IKEv2 capture (RFC 9838), in a private
# network namespace: gdoi-ks and a gdoi-sidecar (protocol = g-ikev2, ike2_keys_log
# set) register (IKE_SA_INIT + GSA_AUTH), then the key server multicasts GSA_REKEYs
# (a TEK rekey, a KEK rotation handing over the next Rekey SA, a TEK rekey under it).
# tcpdump records lo. gdoi-dump, given the sidecar's keys file (the same entries
# tshark's ikev2_decryption_table takes), must decode every message, decrypt both
# GSA_AUTH messages and every GSA_REKEY, and show in the KD the TEK SPI and SRTP key
# that `gdoictl get` shows; with the Rekey SA keys given by hand (--ike2-rekey) the
# GSA_REKEYs decrypt too; a flipped ciphertext octet gives "ICV mismatch"; tshark,
# given the same keys, decodes the same payload chains. TAP output.
set -u
. "$(dirname "$0")/lib/netns.sh"
netns_mcast_lo
. "$(dirname "$0")/lib/stack.sh"
stack_need gdoi-ks gdoi-sidecar gdoictl gdoi-dump
CTL=$BIN/gdoictl
DUMP=$BIN/gdoi-dump
G=239.7.7.9
GP=24010

command -v tcpdump >/dev/null || { echo "1..0 # SKIP no tcpdump"; exit 0; }
tcpdump -i lo -U --immediate-mode -Z root -w "$tmp/cap.pcap" udp >/dev/null 2>"$tmp/tcpdump.err" &
cap_pid=$!
stack_pids+=("$cap_pid")
for _ in $(seq 50); do grep -q "listening on" "$tmp/tcpdump.err" && break; sleep 0.1; done

stack_ks_start "[group media]
id = 1234
tek = AES128_CM_SHA1_80
destination = 239.1.2.3:5004
kek = aes256
rekey_multicast = $G:$GP
rekey_interface = 127.0.0.1
rekey_ttl = 0
rekey_unicast = no
protocols = g-ikev2

[member alice]
id = fqdn:alice.example
psk = $psk
groups = media" || { echo "1..1"; echo "not ok 1 - gdoi-ks did not start"; exit 1; }

stack_sidecar_start "identity = fqdn:alice.example
psk = $psk
ike2_keys_log = $tmp/ike2.keys

[group media]
id = 1234
protocol = g-ikev2
rekey = $G:$GP
allow = uid:$(id -u)" || { echo "1..1"; echo "not ok 1 - the G-IKEv2 sidecar did not start"; exit 1; }

sc() { "$CTL" --sidecar "$SC_SOCK" "$@"; }
check "the sidecar registered by G-IKEv2 (GSA_AUTH)" stack_wait 15 sc get media --format json
check "the sidecar wrote its IKE SA keys (ike2_keys_log, mode 0600)" \
	bash -c "[ -s '$tmp/ike2.keys' ] && [ \"\$(stat -c %a '$tmp/ike2.keys')\" = 600 ]"
sc get media --format json >"$tmp/get0.json"
seen() { grep -c "GSA_REKEY Message ID" "$tmp/ks.log"; }
rekey() {	# rekey [--kek]: one GSA_REKEY more, applied by the sidecar
	local n0 k0
	n0=$(seen)
	k0=$(sc get media --format json)
	"$CTL" --socket "$KS_SOCK" rekey media "$@" >/dev/null
	stack_wait 5 eval '[ "$(seen)" -gt "$n0" ]' || return 1
	[ -n "${1:-}" ] && { sleep 0.3; return 0; }	# a KEK rotation leaves the TEKs
	stack_wait 10 eval '[ "$(sc get media --format json)" != "$k0" ]'
}
check "a TEK rekey (GSA_REKEY) reaches the sidecar" rekey
check "a KEK rotation (GSA_REKEY with the next Rekey SA)" rekey --kek
check "a TEK rekey under the new Rekey SA reaches the sidecar" rekey
sc get media --format json >"$tmp/get1.json"

# RFC 7383 and AES-CBC + HMAC: two of our IKEv2 cores (tests/tools/ike2-peer) with
# IKE_AUTH in SKF fragments of at most 140 octets, under CBC-128 + HMAC-SHA-256-128,
# then an INFORMATIONAL with D(IKE)
PEER=$B/tests/ike2-peer
if [ -x "$PEER" ]; then
	"$PEER" -r -k "$psk" -s 12:128:5:12:19 -n 1 -t 10 -f 140 24020 >"$tmp/peer-r.out" 2>"$tmp/peer-r.err" &
	rpid=$!
	sleep 0.2
	"$PEER" -i -D -k "$psk" -f 140 -s 12:128:5:12:19 -t 10 24021 24020 >"$tmp/peer-i.out" 2>"$tmp/peer-i.err"
	wait "$rpid"
	check "two ike2-peers establish an AES-CBC IKE SA with a fragmented IKE_AUTH" \
		eval 'grep -q "^uat [0-9a-f]" "$tmp/peer-i.out" && grep -q "out [2-9]: " "$tmp/peer-i.err"'
	sed -n 's/^uat //p' "$tmp/peer-i.out" >"$tmp/peer.keys"
else
	notok "tests/ike2-peer is built"
fi
sleep 0.3
kill -INT "$cap_pid"; wait "$cap_pid" 2>/dev/null

"$DUMP" --json --port "$port" --port "$GP" --ike2-keys "$tmp/ike2.keys" "$tmp/cap.pcap" \
	>"$tmp/d.json" 2>"$tmp/d.err"
rc=$?
check "gdoi-dump --ike2-keys: every message decoded and decrypted (exit 0)" test $rc -eq 0
check "gdoi-dump: no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error' '$tmp/d.err'"

cat >"$tmp/check.py" <<'EOF'
import base64, json, sys
mode, path = sys.argv[1], sys.argv[2]
msgs = [json.loads(l) for l in open(path) if l.strip()]
ike = [m for m in msgs if m.get("ike_version") == 2]
def fail(why):
    print("# " + why)
    sys.exit(1)
def inner(m):
    for p in m.get("payloads", []):
        if p["type"] in ("SK", "SKF"):
            return p.get("payloads", [])
    return []
def types(m):
    return [p["type"] for p in m.get("payloads", [])] + [p["type"] for p in inner(m)]
def by(x):
    return [m for m in ike if m["exchange_name"] == x]
def kd_bags(m):
    return [b for p in inner(m) if p["type"] == "KD" for b in p.get("key_bags", [])]
def tek_of(get):
    t = json.load(open(get))["teks"]
    return t
if mode == "all":
    for m in ike:
        if "error" in m:
            fail("frame %d: %s" % (m["frame"], m["error"]["message"]))
    init, auth, rk = by("IKE_SA_INIT"), by("GSA_AUTH"), by("GSA_REKEY")
    if len(init) != 2 or len(auth) != 2 or len(rk) < 3:
        fail("exchanges: %s" % [m["exchange_name"] for m in ike])
    for m in auth + rk:
        if not m.get("decrypted"):
            fail("frame %d not decrypted: %s" % (m["frame"], m.get("not_decrypted")))
    if types(init[0])[:3] != ["SA", "KE", "Nonce"]:
        fail("IKE_SA_INIT request: %s" % types(init[0]))
    if types(auth[0])[0] != "SK" or not {"IDi", "AUTH", "IDg"} <= set(types(auth[0])):
        fail("GSA_AUTH request: %s" % types(auth[0]))
    if not all(t in types(auth[1]) for t in ("IDr", "AUTH", "GSA", "KD")):
        fail("GSA_AUTH response: %s" % types(auth[1]))
    for m in rk:
        if not {"GSA", "KD", "AUTH"} <= set(types(m)):
            fail("GSA_REKEY frame %d: %s" % (m["frame"], types(m)))
    print("# %d IKEv2 messages: %s" % (len(ike), " ".join(m["exchange_name"] for m in ike)))
elif mode in ("tek0", "tek1"):
    # the SRTP SA's SPI and key in the KD (unwrapped) against gdoictl get
    m = by("GSA_AUTH")[1] if mode == "tek0" else by("GSA_REKEY")[-1]
    teks = tek_of(sys.argv[3])
    srtp = [b for b in kd_bags(m) if b["protocol"] == 245]
    if not srtp or not teks:
        fail("no SRTP key bag (%s) or no TEK from gdoictl" % kd_bags(m))
    got = {(b["spi_value"], a.get("unwrapped")) for b in srtp for a in b["key_attributes"]}
    want = {(t["spi"], (base64.b64decode(t["master_key"]) + base64.b64decode(t["master_salt"])).hex())
            for t in teks}
    print("# KD: %s; gdoictl: %s" % (sorted(s for s, _ in got), sorted(s for s, _ in want)))
    # the KD's SAs (SPI and unwrapped key) are among those gdoictl shows; the
    # registration's are all of them
    if not got <= want or (mode == "tek0" and got != want):
        fail("KD %s against gdoictl %s" % (sorted(got), sorted(want)))
    pol = [p for q in inner(m) if q["type"] == "GSA" for p in q["policies"]
           if p["protocol"] == 245]
    xf = pol[0]["transforms"][0] if pol else {}
    if xf.get("transform_type_name") != "SRTP_PROFILE" or not xf.get("transform_id_name"):
        fail("SRTP policy transform: %s" % xf)
elif mode == "rekeysa":
    # every Rekey SA a KD delivered (GSA_AUTH response, KEK rotation): SPI and
    # KEYMAT = GSK_e | GSK_w, split by its GSA policy's ENCR Key Length (GCM)
    out = []
    for m in ike:
        for q in inner(m):
            if q["type"] != "GSA":
                continue
            for pol in q["policies"]:
                if pol["protocol"] != 6:
                    continue
                enc = [t for t in pol["transforms"] if t.get("transform_type_name") == "ENCR"][0]
                bits = [a["value"] for a in enc["attributes"] if a.get("name") == "Key Length"][0]
                e = 2 * (bits // 8 + 4)
                b = [b for b in kd_bags(m) if b["protocol"] == 6 and b["spi"] == pol["spi"]][0]
                km = b["key_attributes"][0]["unwrapped"]
                line = "%s %s %s %d" % (b["spi"], km[:e], km[e:], bits)
                if line not in out:
                    out.append(line)
    print("\n".join(out))
elif mode == "frag":
    auth = by("IKE_AUTH")
    frags = [m for m in auth if m["payloads"] and m["payloads"][-1]["type"] == "SKF"]
    whole = [m for m in frags if "reassembled_from_frames" in m]
    for m in auth:
        if "error" in m or not m.get("decrypted"):
            fail("frame %d: %s" % (m["frame"], m.get("error", m.get("not_decrypted"))))
    if len(frags) < 2 or not whole:
        fail("%d SKF fragments, %d reassembled" % (len(frags), len(whole)))
    done = [m for m in auth if m not in frags or m in whole]   # whole messages
    got = [sorted({"IDi", "IDr", "AUTH"} & set(types(m))) for m in done]
    if got != [["AUTH", "IDi"], ["AUTH", "IDr"]]:
        fail("IKE_AUTH (SK or reassembled SKF): %s" % [types(m) for m in done])
    info = by("INFORMATIONAL")
    if not info or not all(m.get("decrypted") for m in info) or \
            not any(p["type"] == "D" and p["protocol_name"] == "IKE" for p in inner(info[0])):
        fail("INFORMATIONAL: %s" % [(m.get("decrypted"), types(m)) for m in info])
    print("# %d SKF fragments, IKE_AUTH reassembled from frames %s" %
          (len(frags), [m["reassembled_from_frames"] for m in whole]))
elif mode == "fields":
    # against tshark's frame, Message ID, notify types, AUTH methods, IDi/IDr types
    ts = {}
    for l in open(sys.argv[3]):
        f = (l.rstrip("\n").split("\t") + [""] * 5)[:5]
        ts[int(f[0])] = (int(f[1], 16), f[2], f[3], f[4])
    n = 0
    for m in ike:
        pl = m["payloads"] + inner(m)
        ours = (m["message_id"],
                ",".join(str(p["notify_type"]) for p in pl if p["type"] == "N"),
                ",".join(str(p["method"]) for p in pl if p["type"] == "AUTH"),
                ",".join(str(p["id_type"]) for p in pl if p["type"] in ("IDi", "IDr")))
        if ts.get(m["frame"]) != ours:
            fail("frame %d: tshark %s, gdoi-dump %s" % (m["frame"], ts.get(m["frame"]), ours))
        n += 1
    print("# %d messages: the same Message ID, notify types, AUTH methods and ID types" % n)
elif mode == "icv":
    bad = [m for m in ike if "ICV mismatch" in m.get("error", {}).get("message", "")]
    if len(bad) != 1 or bad[0]["exchange_name"] != "GSA_AUTH":
        fail("want one ICV mismatch on GSA_AUTH: %s" % [m.get("error") for m in ike])
elif mode == "chains":
    # frame<TAB>comma-separated payload type numbers, outer then inner
    for m in ike:
        ids = [p["type_id"] for p in m["payloads"]] + [p["type_id"] for p in inner(m)]
        print("%d\t%s" % (m["frame"], ",".join(map(str, ids))))
EOF
check "every IKEv2 message decodes; GSA_AUTH and each GSA_REKEY decrypt with GSA/KD inside" \
	python3 "$tmp/check.py" all "$tmp/d.json"
check "GSA_AUTH's KD: the SRTP SA's SPI and key are those gdoictl get showed" \
	python3 "$tmp/check.py" tek0 "$tmp/d.json" "$tmp/get0.json"
check "the last GSA_REKEY's KD: the SPI and key gdoictl get shows after the rekeys" \
	python3 "$tmp/check.py" tek1 "$tmp/d.json" "$tmp/get1.json"

# the fragmented CBC exchange: every SKF fragment verified and decrypted, each
# IKE_AUTH reassembled (IDi / IDr, AUTH inside)
"$DUMP" --json --port 24020 --ike2-keys "$tmp/peer.keys" "$tmp/cap.pcap" >"$tmp/f.json" 2>"$tmp/f.err"
rc=$?
check "SKF fragments (AES-CBC + HMAC-SHA-256-128): all decrypt, reassembled IKE_AUTH, INFORMATIONAL D(IKE) (exit $rc)" \
	bash -c "[ $rc -eq 0 ] && python3 '$tmp/check.py' frag '$tmp/f.json'"

# the Rekey SA keys by hand: the first IKE SA entry without SK_d, and --ike2-rekey
python3 "$tmp/check.py" rekeysa "$tmp/d.json" >"$tmp/rekeysa.txt"
ro=()
while read -r spi e w bits; do ro+=(--ike2-rekey "$spi=$e:$w"); done <"$tmp/rekeysa.txt"
sa=$(grep -v '^#' "$tmp/ike2.keys" | head -1)
"$DUMP" --json --port "$port" --port "$GP" --ike2-sa "$sa" "${ro[@]}" "$tmp/cap.pcap" >"$tmp/m.json" 2>"$tmp/m.err"
check "--ike2-sa and --ike2-rekey SPI=GSK_E:GSK_W ($((${#ro[@]} / 2)) Rekey SAs): every message decrypts (exit $?)" \
	bash -c "[ \$(wc -l <'$tmp/rekeysa.txt') -eq 2 ] && python3 '$tmp/check.py' all '$tmp/m.json'"

# a flipped ciphertext octet in the GSA_AUTH request
python3 - "$tmp/d.json" "$tmp/cap.pcap" "$tmp/bad.pcap" <<'EOF'
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
m = [m for m in msgs if m.get("exchange_name") == "GSA_AUTH"][0]
hdr = bytes.fromhex(m["spi_i"] + m["spi_r"]) + bytes([m["next_payload"], 0x20, 39])
cap = bytearray(open(sys.argv[2], "rb").read())
at = cap.find(hdr)
cap[at + m["length"] - 20] ^= 0x01   # inside the ciphertext, before the ICV
open(sys.argv[3], "wb").write(cap)
EOF
"$DUMP" --json --port "$port" --port "$GP" --ike2-keys "$tmp/ike2.keys" "$tmp/bad.pcap" >"$tmp/b.json" 2>>"$tmp/d.err"
rc=$?
check "a flipped ciphertext octet: \"ICV mismatch\" on that GSA_AUTH only, exit 1" \
	bash -c "[ $rc -eq 1 ] && python3 '$tmp/check.py' icv '$tmp/b.json'"
"$DUMP" --ike2-keys "$tmp/ike2.keys" "$tmp/bad.pcap" 2>/dev/null | grep "ERROR: ICV" | sed 's/^/# /'

# bad IKEv2 input (hex): each refused with the payload and offset named, no crash
hdr() { printf '0102030405060708a1a2a3a4a5a6a7a8%02x20%02x0800000000%08x' "$1" "$2" "$3"; }
{
	hdr 33 34 40; echo 00000010		# Length 40, 32 octets
	hdr 33 34 36; echo 0000000c01020304	# SA of 12 octets in 8
	hdr 51 37 40; echo 000000 0cf5040004 0000 0000 | tr -d ' '	# GSA: policy Length 4
	hdr 46 39 44; echo 0000001000000000 0000000000000000	# SK: keys unknown: not an error
	echo 0000000001020304050607080000000000000000212022080000000000000020	# marker, short
} >"$tmp/bad.hex"
"$DUMP" --json --hex "$tmp/bad.hex" >"$tmp/bh.json" 2>"$tmp/bh.err"
rc=$?
python3 - "$tmp/bh.json" >"$tmp/bh.txt" <<'EOF2'
import json, sys
for l in open(sys.argv[1]):
    m = json.loads(l)
    e = m.get("error") or next((p.get("error") for p in m.get("payloads", []) if p.get("error")), None)
    print("%s|%s" % (e.get("offset") if e else "-", e.get("message") if e else m.get("not_decrypted", "ok")))
EOF2
sed 's/^/# /' "$tmp/bh.txt"
check "bad IKEv2 hex: errors at offsets 24, 30, 36 and 24 (after a marker), an unkeyed SK passes (exit $rc)" \
	bash -c "[ $rc -eq 1 ] && [ \"\$(cut -d'|' -f1 '$tmp/bh.txt' | tr '\n' ' ')\" = '24 30 36 - 24 ' ] &&
		! grep -qE 'Sanitizer|runtime error' '$tmp/bh.err'"

# tshark with the same keys: the same payload chain (outer and decrypted) per message
if command -v tshark >/dev/null; then
	uo=()
	while read -r l; do uo+=(-o "uat:ikev2_decryption_table:$l"); done < <(grep -v '^#' "$tmp/ike2.keys")
	# a GSA_REKEY is an initiator's SK under GSK_e: tshark takes it as SK_ei
	while read -r spi e w bits; do
		uo+=(-o "uat:ikev2_decryption_table:${spi:0:16},${spi:16},$e,$e,\"AES-GCM-$bits with 16 octet ICV [RFC5282]\",,,\"NONE [RFC4306]\"")
	done <"$tmp/rekeysa.txt"
	# frame, then the payload types (without SA's proposal / transform substructures, 2 and 3)
	tshark -r "$tmp/cap.pcap" -d "udp.port==$port,isakmp" -d "udp.port==$GP,isakmp" "${uo[@]}" \
		-Y "isakmp.version == 0x20 && (udp.port == $port || udp.port == $GP)" -T fields -E occurrence=a -E aggregator=, -e frame.number \
		-e isakmp.typepayload 2>"$tmp/ts.err" |
		awk -F'\t' '{ n = split($2, a, ","); o = ""
			for (i = 1; i <= n; i++) if (a[i] != 2 && a[i] != 3) o = o (o == "" ? "" : ",") a[i]
			print $1 "\t" o }' >"$tmp/ts.txt"
	python3 "$tmp/check.py" chains "$tmp/d.json" >"$tmp/ours.txt"
	sed 's/^/# tshark: /' "$tmp/ts.txt"
	check "tshark, given the same keys, decodes and decrypts the same payload chains ($(wc -l <"$tmp/ts.txt") messages)" \
		bash -c "[ \$(wc -l <'$tmp/ts.txt') -eq 7 ] && diff '$tmp/ts.txt' '$tmp/ours.txt' >&2"
	tshark -r "$tmp/cap.pcap" -d "udp.port==$port,isakmp" -d "udp.port==$GP,isakmp" "${uo[@]}" \
		-Y "isakmp.version == 0x20 && (udp.port == $port || udp.port == $GP)" -T fields \
		-E occurrence=a -E aggregator=, -e frame.number -e isakmp.messageid \
		-e isakmp.notify.msgtype -e isakmp.auth.method -e isakmp.id.type \
		>"$tmp/tsf.txt" 2>>"$tmp/ts.err"
	check "and the same decoded fields (Message ID, notify types, AUTH methods, ID types)" \
		python3 "$tmp/check.py" fields "$tmp/d.json" "$tmp/tsf.txt"
else
	skip "tshark decodes the same payload chains" "no tshark"
fi
[ "$tap_fail" -eq 0 ] || stack_logs
tap_plan_end
