package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dataplane-go/dataplane/capture"
	"github.com/dataplane-go/dataplane/internal/defaulttrace"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/internal/traffic"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// row returns the value of a "measure value" row of the flow section.
func row(t *testing.T, out, measure string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(measure) + `\s+(\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %q row in\n%s", measure, out)
	}
	return m[1]
}

// kernelFlag is the -kernel mode for the one test run that exercises every
// section's kernel: "on" (a kernel that cannot load fails the run) where
// BPF works or is required, "off" elsewhere. The other runs use "off": they
// test the command, and replaying every kernel over their traces would
// only repeat the kernel packages' own tests, slowly.
func kernelFlag() string {
	if kerneltest.Available() == nil || kerneltest.Required() {
		return "on"
	}
	return "off"
}

func TestRun_DefaultTrace(t *testing.T) {
	code, out, errs := runCmd(t, "-quiet", "-top", "3", "-kernel", kernelFlag())
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	if errs != "" {
		t.Errorf("-quiet run wrote to stderr:\n%s", errs)
	}
	if !strings.Contains(out, defaulttrace.Name) || !strings.Contains(out, "== flow ==") {
		t.Fatalf("output lacks the trace name or the flow section:\n%s", out)
	}
	for measure, want := range map[string]string{
		"packets":        "60000",
		"distinct flows": "10000",
		"parse ok":       "60000",
		"parse not-ip":   "0",
	} {
		if got := row(t, out, measure); got != want {
			t.Errorf("%s: %s, want %s", measure, got, want)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^[123] +\S+ > \S+ (tcp|udp)`).FindAllString(out, -1)); n != 3 {
		t.Errorf("top 3 table has %d rows:\n%s", n, out)
	}
	if !regexp.MustCompile(`Go parse: [0-9.]+ ns/packet`).MatchString(out) {
		t.Errorf("no Go parse speed:\n%s", out)
	}
	if !regexp.MustCompile(`add [0-9.]+ \(AddBatch [0-9.]+\),.* top-\d+ add [0-9.]+ \(AddBatch [0-9.]+\)`).MatchString(out) {
		t.Errorf("no count-min speed line with the batch figures:\n%s", out)
	}
	if got := row(t, out, "Go encode ns/packet, batched (AddPackets)"); !regexp.MustCompile(`^[0-9.]+$`).MatchString(got) {
		t.Errorf("FlowRadar batch encode speed %q is not a number", got)
	}
	kernelLine := "kernel: not run (-kernel off)"
	if kernelFlag() == "on" {
		kernelLine = "kernel: 60000 frames; agrees with flow.Parse on every packet"
	}
	if !strings.Contains(out, kernelLine) {
		t.Errorf("no line %q:\n%s", kernelLine, out)
	}
	checkBloomSection(t, out, kernelFlag() == "on")
	// The top-k recall comes with the number of flows the sketch cannot
	// rank: those within its error of the k-th flow, the k-th among them.
	if m := regexp.MustCompile(`top-100 tracker .*: recall ([0-9.]+) against exact counts \(flow 100 by exact count has (\d+) packets; (\d+) flows are within (\d+) packets of that`).FindStringSubmatch(out); m == nil {
		t.Errorf("no top-100 tracker line with its recall's context:\n%s", out)
	} else if near, _ := strconv.Atoi(m[3]); near < 1 {
		t.Errorf("top-100 tracker: %s flows near the 100th, want at least the 100th itself", m[3])
	}
	if kernelFlag() == "on" {
		// Every kernel that counts without rewriting the packet reports its
		// speed against the XDP_DROP floor: flow, bloom, cms, iblt, flowradar.
		for _, re := range []string{
			`kernel parse\+hash: [0-9.]+ ns/packet, XDP_DROP floor [0-9.]+ ns/packet`,
			`kernel speed: [0-9.]+ ns/packet, XDP_DROP floor [0-9.]+ ns/packet, net -?[0-9.]+ ns/packet \(parse \+ hash \+ \d+ bit tests\)`,
			`kernel speed, ns/packet \(net: less an XDP_DROP floor\) for parse \+ hash \+ update: shared d=4 with epochs [0-9.]+ \(net -?[0-9.]+\)`,
			`kernel speed: [0-9.]+ ns/packet, XDP_DROP floor [0-9.]+ ns/packet, net -?[0-9.]+ ns/packet \(parse \+ packet id`,
			`kernel speed: [0-9.]+ ns/packet, XDP_DROP floor [0-9.]+ ns/packet, net -?[0-9.]+ ns/packet \(shared tables, atomic updates: parse \+ hash \+ filter test \+ \d+ cells, flows known\)`,
		} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("no kernel speed line matching %s:\n%s", re, out)
			}
		}
		// The detector's reports name every heavy flow, some more than once;
		// its drops are the kernel's own count, beside the Go model's.
		m := regexp.MustCompile(`kernel detector .*: (\d+) dropped \(Go model: (\d+)\), (\d+) reports naming (\d+) heavy flows \(Go model: (\d+) reports, same keys in the same order and intervals: true\), verdict mismatches with Go: 0, counters differing from Go: 0 of`).FindStringSubmatch(out)
		if m == nil {
			t.Errorf("no kernel detector line with drops and reports matching Go's:\n%s", out)
		} else {
			drops, _ := strconv.Atoi(m[1])
			reports, _ := strconv.Atoi(m[3])
			flows, _ := strconv.Atoi(m[4])
			switch {
			case drops == 0 || m[1] != m[2]:
				t.Errorf("kernel detector: %s dropped, Go model %s", m[1], m[2])
			case reports == 0 || m[3] != m[5]:
				t.Errorf("kernel detector: %s reports, Go model %s", m[3], m[5])
			case flows == 0 || flows > reports:
				t.Errorf("kernel detector: %d heavy flows from %d reports", flows, reports)
			}
		}
	}
	// The flowradar section fails the run if a loss is located anywhere but
	// the lossy spine; here, it must also have located most of the drops.
	m := regexp.MustCompile(`loss localisation: .*: (\d+) packets dropped; the collector locates (\d+) of them`).FindStringSubmatch(out)
	if m == nil {
		t.Errorf("no loss localisation line:\n%s", out)
	} else if dropped, _ := strconv.Atoi(m[1]); dropped == 0 {
		t.Errorf("loss localisation: no packet dropped: %s", m[0])
	} else if located, _ := strconv.Atoi(m[2]); located*10 < dropped*9 || located > dropped {
		t.Errorf("loss localisation: located %d of %d dropped packets, want at least 90%%", located, dropped)
	}
}

func TestRun_Amplify(t *testing.T) {
	if testing.Short() {
		// Every section on three times the default trace: minutes under
		// the race detector, for what TestRun_DefaultTrace already races.
		t.Skip("runs every section on 180,000 packets; the full (not -short) run checks it")
	}
	code, out, errs := runCmd(t, "-quiet", "-amplify", "3", "-kernel", "off")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if row(t, out, "packets") != "180000" || row(t, out, "distinct flows") != "30000" {
		t.Errorf("amplified 3 times: packets %s flows %s, want 180000 and 30000", row(t, out, "packets"), row(t, out, "distinct flows"))
	}
}

func TestRun_SharedCapture(t *testing.T) {
	dir := traffic.Dir(t)
	code, out, errs := runCmd(t, "-quiet", "-kernel", kernelFlag(), "-pcap", filepath.Join(dir, "ndpi-gnutella-p2p.pcap"),
		"-pcap", filepath.Join(dir, "robustness", "linktype-linux-sll_pcapplusplus.pcap"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if got := row(t, out, "packets"); got != "4423" { // 3905 + 518 (SLL converted)
		t.Errorf("packets %s, want 4423", got)
	}
	// A directory: every capture under it.
	code, out, errs = runCmd(t, "-quiet", "-kernel", "off", "-pcap", filepath.Join(dir, "robustness"))
	if code != 0 {
		t.Fatalf("robustness directory: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "39 captures from") {
		t.Errorf("directory run does not say how many captures:\n%s", out[:min(len(out), 300)])
	}
}

func TestRun_BadArgs(t *testing.T) {
	dir := t.TempDir()
	// A good trace of 10 packets (42 + i bytes), then the same cut 4 bytes
	// into the data of packet 8.
	var pkts []capture.Packet
	for i := range 10 {
		f := pkt.UDP4("10.0.0.1:1000", "10.0.0.2:53", make([]byte, i))
		pkts = append(pkts, capture.Packet{Data: f, WireLen: len(f), Link: capture.LinkEthernet})
	}
	good := filepath.Join(dir, "good.pcap")
	if err := capture.WriteFile(good, pkts); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(good)
	cut := 24
	for _, p := range pkts[:7] {
		cut += 16 + len(p.Data)
	}
	corrupt := filepath.Join(dir, "cut.pcap")
	os.WriteFile(corrupt, raw[:cut+20], 0o644)
	garbage := filepath.Join(dir, "garbage.pcap")
	os.WriteFile(garbage, []byte("this is not a capture at all"), 0o644)
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)

	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown flag", []string{"-frobnicate"}, 2, "flag provided but not defined: -frobnicate"},
		{"missing file", []string{"-pcap", filepath.Join(dir, "nope.pcap")}, 2, "dataplane: -pcap " + filepath.Join(dir, "nope.pcap") + ": no such file or directory"},
		{"amplify 0", []string{"-amplify", "0"}, 2, "dataplane: -amplify must be at least 1, got 0"},
		{"amplify negative", []string{"-amplify", "-4"}, 2, "dataplane: -amplify must be at least 1, got -4"},
		{"amplify not a number", []string{"-amplify", "many"}, 2, `invalid value "many" for flag -amplify`},
		{"kernel mode", []string{"-kernel", "maybe"}, 2, `dataplane: -kernel must be auto, on or off, got "maybe"`},
		{"top negative", []string{"-top", "-1"}, 2, "dataplane: -top must be at least 0, got -1"},
		{"stray argument", []string{"trace.pcap"}, 2, `dataplane: unexpected argument "trace.pcap" (captures are given with -pcap)`},
		{"garbage file", []string{"-pcap", garbage}, 1, "dataplane: capture: " + garbage + ": not a pcap or pcapng capture: unknown magic number"},
		{"corrupt file", []string{"-pcap", corrupt}, 1, "dataplane: capture: " + corrupt + ": record 8 at offset " + strconv.Itoa(cut) + ": truncated: packet data needs 49 bytes, 4 left (the 7 packets before it are replayed)"},
		{"corrupt among good", []string{"-pcap", good, "-pcap", corrupt}, 1, "record 8"},
		{"empty directory", []string{"-pcap", empty}, 1, "no capture"},
		{"amplify too large", []string{"-amplify", "1000"}, 1, "dataplane: -amplify 1000 would need"},
		// good.pcap holds 10 frames of 42 to 51 bytes, 465 bytes: 465 times
		// this N is 2^64 + 449, which wraps to 449 bytes in a uint64.
		{"amplify wraps", []string{"-pcap", good, "-amplify", "39670417362816241"}, 1, "dataplane: -amplify 39670417362816241 would need"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCmd(t, append([]string{"-quiet"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, errs)
			}
			if !strings.Contains(errs, tc.msg) {
				t.Errorf("stderr:\n%s\nwant it to contain %q", errs, tc.msg)
			}
			if strings.Contains(errs, "panic") || strings.Contains(errs, "goroutine") {
				t.Errorf("panic:\n%s", errs)
			}
			switch tc.name {
			case "corrupt file":
				// What was read before the damage still counts.
				if got := row(t, out, "packets"); got != "7" {
					t.Errorf("packets %s, want the 7 read before the damage", got)
				}
			case "corrupt among good":
				if got := row(t, out, "packets"); got != "17" {
					t.Errorf("packets %s, want 10 + 7", got)
				}
			}
		})
	}
}

// TestRun_OnlyRunts: a capture whose frames are all shorter than an
// Ethernet header leaves the kernels nothing to run. That is no failure:
// the command exits 0 and says so, whatever -kernel is.
func TestRun_OnlyRunts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runts.pcap")
	runt := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	if err := capture.WriteFile(path, []capture.Packet{{Data: runt, WireLen: 60, Link: capture.LinkEthernet}}); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "-quiet", "-kernel", kernelFlag(), "-pcap", path)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr:\n%s\nstdout:\n%s", code, errs, out)
	}
	if got := row(t, out, "parse truncated"); got != "1" {
		t.Errorf("parse truncated %s, want 1", got)
	}
	if strings.Contains(out, "failed") {
		t.Errorf("report of one runt:\n%s", out)
	}
}

// TestRun_NothingParsed: when no frame parses (ARP only), no figure of the
// report is NaN.
func TestRun_NothingParsed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "arp.pcap")
	arp := make([]byte, 42)
	arp[12], arp[13] = 0x08, 0x06
	if err := capture.WriteFile(path, []capture.Packet{{Data: arp, WireLen: len(arp), Link: capture.LinkEthernet}}); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "-quiet", "-kernel", "off", "-pcap", path)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	if got := row(t, out, "parse not-ip"); got != "1" {
		t.Errorf("parse not-ip %s, want 1", got)
	}
	if strings.Contains(out, "NaN") || strings.Contains(out, "Inf") {
		t.Errorf("report of one ARP frame:\n%s", out)
	}
}

// TestRun_BytesOfConvertedFrames: a raw IP capture is replayed as
// Ethernet frames, 14 bytes longer each; the byte counts of the heading
// and of the flow section are of those frames, and must not call them
// "captured".
func TestRun_BytesOfConvertedFrames(t *testing.T) {
	f := pkt.UDP4("10.0.0.1:1000", "10.0.0.2:53", make([]byte, 10))
	ip := f[14:]
	path := filepath.Join(t.TempDir(), "raw.pcap")
	if err := capture.WriteFile(path, []capture.Packet{{Data: ip, WireLen: len(ip), Link: capture.LinkRaw}}); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "-quiet", "-kernel", "off", "-pcap", path)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	if m := regexp.MustCompile(`(?m)^bytes captured\s+(\S+)`).FindStringSubmatch(out); m != nil && m[1] != strconv.Itoa(len(ip)) {
		t.Errorf("bytes captured %s, but the capture holds %d", m[1], len(ip))
	}
	if got := row(t, out, "bytes as Ethernet frames"); got != strconv.Itoa(len(f)) {
		t.Errorf("bytes as Ethernet frames %s, want %d", got, len(f))
	}
	// The heading's byte count too.
	if want := "dataplane: 1 packets, " + strconv.Itoa(len(f)) + " bytes as Ethernet frames"; !strings.HasPrefix(out, want) {
		t.Errorf("heading %q, want it to begin %q", out[:strings.Index(out, "\n")], want)
	}
}

func TestRegister_RejectsDuplicates(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a second section named flow was accepted")
		}
	}()
	saved := sections
	defer func() { sections = saved }()
	register(Section{Name: "flow", Run: func(*Run) error { return nil }})
}

func TestRun_Help(t *testing.T) {
	code, _, errs := runCmd(t, "-h")
	if code != 0 || !strings.Contains(errs, "usage: dataplane") || !strings.Contains(errs, "-amplify") {
		t.Errorf("exit %d, help:\n%s", code, errs)
	}
}

// TestProgress_NewStepWaits: a step's first call to Progress starts its
// clock and prints nothing, even when the previous step last printed more
// than a second ago (which printed "cms kernel: 0/60000"); a later call,
// a second on, prints.
func TestProgress_NewStepWaits(t *testing.T) {
	var buf bytes.Buffer
	r := &Run{errOut: &buf}
	r.Progress("bloom kernel", 1, 10)
	r.lastProg = r.lastProg.Add(-2 * time.Second)
	r.Progress("bloom kernel", 5, 10)
	if got, want := buf.String(), "dataplane: bloom kernel: 5/10\n"; got != want {
		t.Fatalf("progress %q, want %q", got, want)
	}
	buf.Reset()
	r.lastProg = r.lastProg.Add(-2 * time.Second)
	r.Progress("cms kernel", 0, 10)
	if buf.Len() != 0 {
		t.Fatalf("a new step's first call printed %q", buf.String())
	}
	r.lastProg = r.lastProg.Add(-2 * time.Second)
	r.Progress("cms kernel", 3, 10)
	if got, want := buf.String(), "dataplane: cms kernel: 3/10\n"; got != want {
		t.Fatalf("progress %q, want %q", got, want)
	}
}

// TestRun_AmplifySmallFramesTooLarge: the -amplify bound counts what each
// packet costs the command besides its frame (its capture.Packet, parse
// result, frame slice and key), which for small frames is several times
// the frame. 90 million copies of a 42-byte frame are 3.8 GB of frames,
// under 4 GiB, but over 17 GB held in all: the command must refuse them
// before amplifying, not run out of memory.
func TestRun_AmplifySmallFramesTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "arp.pcap")
	arp := make([]byte, 42)
	arp[12], arp[13] = 0x08, 0x06
	if err := capture.WriteFile(path, []capture.Packet{{Data: arp, WireLen: len(arp), Link: capture.LinkEthernet}}); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCmd(t, "-quiet", "-kernel", "off", "-pcap", path, "-amplify", "90000000")
	if code != 1 || !strings.Contains(errs, "dataplane: -amplify 90000000 would need") {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
}

// TestRun_FlowSharesNameTheirBase: in the flow section the outcome rows
// are shares of every packet, the protocol rows and the top flows shares
// of the packets that parsed. With one UDP frame and one ARP frame the two
// bases differ (2 and 1); every share column must name its base, and its
// figures must be of that base.
func TestRun_FlowSharesNameTheirBase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mix.pcap")
	udp := pkt.UDP4("10.0.0.1:1000", "10.0.0.2:53", make([]byte, 10))
	arp := make([]byte, 42)
	arp[12], arp[13] = 0x08, 0x06
	if err := capture.WriteFile(path, []capture.Packet{
		{Data: udp, WireLen: len(udp), Link: capture.LinkEthernet},
		{Data: arp, WireLen: len(arp), Link: capture.LinkEthernet},
	}); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "-quiet", "-kernel", "off", "-pcap", path)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	sec := out[strings.Index(out, "== flow =="):strings.Index(out, "== bloom ==")]
	// The share heading in force at each row, and the share the row shows.
	heading := ""
	want := map[string]string{"share of packets": "50.0%", "share of parsed packets": "100.0%"}
	for _, line := range strings.Split(sec, "\n") {
		if i := strings.Index(line, "share"); i >= 0 && !strings.Contains(line, "%") {
			heading = strings.TrimSpace(line[i:])
			continue
		}
		for _, r := range []string{"parse ok ", "IPv4 ", "UDP ", "1  10.0.0.1:1000 > 10.0.0.2:53 udp "} {
			if !strings.HasPrefix(line, r) {
				continue
			}
			f := strings.Fields(line)
			if got := f[len(f)-1]; want[heading] == "" || got != want[heading] {
				t.Errorf("row %q shows %s under heading %q; want a heading naming its base (%v)", strings.TrimSpace(r), got, heading, want)
			}
		}
	}
}

// TestRun_KernelLinesCountTruncatedFrames: a frame that holds an Ethernet
// header but is cut inside its IPv4 header reaches every kernel, which
// passes it unparsed. The flow section counts it as truncated; the bloom
// and maglev kernel lines must count it under a label that says so, not
// as "malformed" or among reasons it is not (not IP, VLAN, fragment).
func TestRun_KernelLinesCountTruncatedFrames(t *testing.T) {
	if kernelFlag() != "on" {
		t.Skip("BPF programs do not load here")
	}
	path := filepath.Join(t.TempDir(), "cut.pcap")
	var pkts []capture.Packet
	for i := range 4 { // four flows, so that every section runs its kernel
		f := pkt.UDP4("10.0.0.1:"+strconv.Itoa(1000+i), "10.0.0.2:53", make([]byte, 10))
		pkts = append(pkts, capture.Packet{Data: f, WireLen: len(f), Link: capture.LinkEthernet})
	}
	cut := pkts[0].Data[:20] // 6 bytes of a 20-byte IPv4 header
	pkts = append(pkts, capture.Packet{Data: cut, WireLen: 52, Link: capture.LinkEthernet})
	if err := capture.WriteFile(path, pkts); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "-quiet", "-kernel", "on", "-pcap", path)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	if got := row(t, out, "parse truncated"); got != "1" {
		t.Fatalf("parse truncated %s, want 1", got)
	}
	for _, want := range []string{
		"5 frames, 2 dropped, 3 passed (0 not IP, 1 truncated or malformed)",
		"5 frames, 4 sent (0 of them ICMP errors, with the flow they quote), 1 passed (1 not parsed: not IP, truncated or malformed; 0 VLAN-tagged; 0 with no VIP; 0 later fragments of an unknown datagram), 0 dropped,",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}

// TestRun_SkippedLinkTypes: packets that cannot become Ethernet frames are
// skipped with a warning that says why: a link type the command does not
// convert (naming those it does), or, for a link type it converts, a
// packet too short for its link-layer header or whose IP version is
// neither 4 nor 6.
func TestRun_SkippedLinkTypes(t *testing.T) {
	dir := t.TempDir()
	f := pkt.UDP4("10.0.0.1:1000", "10.0.0.2:53", make([]byte, 10))
	usr := filepath.Join(dir, "user0.pcap")
	if err := capture.WriteFile(usr, []capture.Packet{{Data: f, WireLen: len(f), Link: 147}}); err != nil {
		t.Fatal(err)
	}
	bad := slices.Clone(f[14:])
	bad[0] = 0x55 // IP version 5
	raw := filepath.Join(dir, "raw.pcap")
	if err := capture.WriteFile(raw, []capture.Packet{
		{Data: f[14:], WireLen: len(f) - 14, Link: capture.LinkRaw},
		{Data: bad, WireLen: len(bad), Link: capture.LinkRaw},
	}); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCmd(t, "-quiet", "-kernel", "off", "-pcap", usr, "-pcap", raw)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	for _, want := range []string{
		"dataplane: 1 packets of link type linktype(147) skipped: that link type is not converted to Ethernet (converted: null, ethernet, raw-ip(12), raw-ip(101), linux-sll, ipv4, ipv6, linux-sll2)\n",
		"dataplane: 1 packets of link type raw-ip(101) skipped: too short for their link-layer header, or not IPv4 or IPv6\n",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr:\n%s\nwant it to contain %q", errs, want)
		}
	}
}

// TestConvertedLinks: the link types the skip warning names as converted
// are those capture.Packet.Ethernet converts, in increasing order.
func TestConvertedLinks(t *testing.T) {
	data := bytes.Repeat([]byte{0x45}, 64) // IPv4 for every link type's payload, a nonzero cooked protocol
	var want []capture.LinkType
	for l := capture.LinkType(0); l < 1<<16; l++ {
		p := capture.Packet{Data: data, WireLen: len(data), Link: l}
		if _, ok := p.Ethernet(nil); ok {
			want = append(want, l)
		}
	}
	if !slices.Equal(convertedLinks, want) {
		t.Errorf("convertedLinks %v, but Packet.Ethernet converts %v", convertedLinks, want)
	}
}

// TestFormatFloat: table cells keep 4 significant digits, but large values
// print whole rather than with an exponent, which the report's readers
// (and its tests' number patterns) would not expect.
func TestFormatFloat(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {0.0009997, "0.0009997"}, {26.94, "26.94"}, {1.384, "1.384"}, {9999, "9999"},
		{9999.4, "9999"}, {9999.6, "10000"}, {16720.4, "16720"}, {-16720.4, "-16720"}, {1234567, "1234567"},
		{1e15, "1e+15"}, {math.Inf(1), "+Inf"}, {math.NaN(), "NaN"},
	} {
		if got := formatFloat(c.v); got != c.want {
			t.Errorf("formatFloat(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

// TestRun_EmptyDirectoryAmongCaptures: a -pcap directory holding no
// capture is an error (exit 1) even when another -pcap gives packets to
// replay.
func TestRun_EmptyDirectoryAmongCaptures(t *testing.T) {
	dir := t.TempDir()
	f := pkt.UDP4("10.0.0.1:1000", "10.0.0.2:53", nil)
	good := filepath.Join(dir, "good.pcap")
	if err := capture.WriteFile(good, []capture.Packet{{Data: f, WireLen: len(f), Link: capture.LinkEthernet}}); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "-quiet", "-kernel", "off", "-pcap", good, "-pcap", empty)
	if code != 1 || !strings.Contains(errs, "no capture") {
		t.Errorf("exit %d, want 1; stderr:\n%s", code, errs)
	}
	if got := row(t, out, "packets"); got != "1" {
		t.Errorf("packets %s, want the 1 of the good capture", got)
	}
}

// TestRun_AmplifyTwice: -amplify 2 replays the input twice with disjoint
// addresses: twice the packets, bytes and flows, and the heading says so.
func TestRun_AmplifyTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "two.pcap")
	var pkts []capture.Packet
	bytes := 0
	for i := range 3 {
		f := pkt.UDP4("10.0.0.1:"+strconv.Itoa(1000+i), "10.0.0.2:53", make([]byte, i))
		pkts = append(pkts, capture.Packet{Data: f, WireLen: len(f), Link: capture.LinkEthernet})
		bytes += len(f)
	}
	if err := capture.WriteFile(path, pkts); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "-quiet", "-kernel", "off", "-pcap", path, "-amplify", "2")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	if want := "dataplane: 6 packets, " + strconv.Itoa(2*bytes) + " bytes as Ethernet frames: " + path + ", amplified 2 times\n"; !strings.HasPrefix(out, want) {
		t.Errorf("heading %q, want %q", out[:strings.Index(out, "\n")+1], want)
	}
	if row(t, out, "packets") != "6" || row(t, out, "distinct flows") != "6" {
		t.Errorf("amplified 2 times: packets %s flows %s, want 6 and 6", row(t, out, "packets"), row(t, out, "distinct flows"))
	}
}

// TestRun_UnreadableEntryInDirectory: a -pcap directory with an entry that
// cannot be read (a capture name linking nowhere) is an error (exit 1);
// the captures it could read are still replayed.
func TestRun_UnreadableEntryInDirectory(t *testing.T) {
	dir := t.TempDir()
	f := pkt.UDP4("10.0.0.1:1000", "10.0.0.2:53", nil)
	if err := capture.WriteFile(filepath.Join(dir, "good.pcap"), []capture.Packet{{Data: f, WireLen: len(f), Link: capture.LinkEthernet}}); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "missing"), filepath.Join(dir, "dangling.pcap")); err != nil {
		t.Skipf("no symbolic link here: %v", err)
	}
	code, out, errs := runCmd(t, "-quiet", "-kernel", "off", "-pcap", dir)
	if code != 1 || !strings.Contains(errs, "dangling.pcap") {
		t.Errorf("exit %d, want 1; stderr:\n%s", code, errs)
	}
	if got := row(t, out, "packets"); got != "1" {
		t.Errorf("packets %s, want the 1 of the readable capture", got)
	}
}

// TestRun_ReadStopsAtMemoryLimit: reading stops, with an error naming the
// file and the packet, at the first packet that would take the input past
// the memory limit; the packets before it are replayed, no later file is
// read, and the exit status is 1. Before, every packet was read: a gzip
// capture of 155 KB holding ten million empty records took 3 GB.
func TestRun_ReadStopsAtMemoryLimit(t *testing.T) {
	f := pkt.UDP4("10.0.0.1:1000", "10.0.0.2:53", nil)
	var pkts []capture.Packet
	for range 100 {
		pkts = append(pkts, capture.Packet{Data: f, WireLen: len(f), Link: capture.LinkEthernet})
	}
	path := filepath.Join(t.TempDir(), "hundred.pcap")
	if err := capture.WriteFile(path, pkts); err != nil {
		t.Fatal(err)
	}
	defer func(old uint64) { memoryLimit = old }(memoryLimit)
	memoryLimit = peakMemory(50, 50*uint64(len(f)), 1)
	code, out, errs := runCmd(t, "-quiet", "-kernel", "off", "-pcap", path, "-pcap", path)
	want := "dataplane: " + path + ": stopped reading at its packet 51: the input would need more memory than allowed: about"
	if code != 1 || !strings.Contains(errs, want) || !strings.Contains(errs, "(the 50 packets before it are replayed)") || strings.Count(errs, "stopped reading") != 1 {
		t.Errorf("exit %d, want 1 and %q once; stderr:\n%s", code, want, errs)
	}
	if got := row(t, out, "packets"); got != "50" {
		t.Errorf("packets %s, want the 50 that fit", got)
	}
}

// TestRun_AmplifyProductWraps: an -amplify N whose bytes to hold, N times
// what the capture costs, pass 2^64 (and wrap to a few bytes in a uint64)
// is refused for its size like any N too large.
func TestRun_AmplifyProductWraps(t *testing.T) {
	f := pkt.UDP4("10.0.0.1:1000", "10.0.0.2:53", nil)
	path := filepath.Join(t.TempDir(), "one.pcap")
	if err := capture.WriteFile(path, []capture.Packet{{Data: f, WireLen: len(f), Link: capture.LinkEthernet}}); err != nil {
		t.Fatal(err)
	}
	size := uint64(len(f)) + perPacket
	n := math.MaxUint64/size + 1 // n*size is 2^64 plus less than size
	if n > math.MaxInt {
		t.Skipf("-amplify %d does not fit in an int here", n)
	}
	arg := strconv.FormatUint(n, 10)
	code, _, errs := runCmd(t, "-quiet", "-kernel", "off", "-pcap", path, "-amplify", arg)
	if code != 1 || !strings.Contains(errs, "dataplane: -amplify "+arg+" would need") {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
}

// TestRun_FlagErrorPrintedOnce: an error the flag package has printed
// (with the usage) is not printed again.
func TestRun_FlagErrorPrintedOnce(t *testing.T) {
	code, _, errs := runCmd(t, "-frobnicate")
	if n := strings.Count(errs, "flag provided but not defined: -frobnicate"); code != 2 || n != 1 {
		t.Errorf("exit %d, error printed %d times; stderr:\n%s", code, n, errs)
	}
}
