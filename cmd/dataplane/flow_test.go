package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	flowxdp "github.com/dataplane-go/dataplane/flow/xdp"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestKernelFlowReport_ComparesEveryPacket: the flow section says the
// kernel "agrees with flow.Parse on every packet". The key-hash digest is
// a XOR, in which the two packets of a flow cancel: on a trace of
// two-packet flows it is 0 whatever the kernel's keys and hashes, so the
// claim must rest on comparing each packet's record with flow.Parse.
func TestKernelFlowReport_ComparesEveryPacket(t *testing.T) {
	kerneltest.Require(t)
	var frames [][]byte
	for p := 0; p < 2; p++ {
		for i := 0; i < 50; i++ {
			frames = append(frames, pkt.UDP4(fmt.Sprintf("10.2.0.%d:4000", i), "10.3.0.1:53", nil))
		}
	}
	r, _ := frameRun(3, frames...)
	r.Kernel = KernelOn
	if d := flowxdp.Digest(r.Frames, r.Seed); d != 0 {
		t.Fatalf("digest of two-packet flows %#x, want 0", d)
	}
	line, err := kernelFlowReport(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(line, "agrees with flow.Parse on every packet") || !strings.Contains(line, "100 packets compared one by one") {
		t.Errorf("kernel line does not say it compared every packet with flow.Parse:\n%s", line)
	}
}

// TestKernelFlowReport_SaysWhatItLeftOut: the kernel runs only frames of at
// least an Ethernet header (and at most kernelMaxFrames of them). When it
// ran fewer than the run's packets, the agreement line must not claim
// every packet: it must say how many of how many it compared, and why the
// others were left out.
func TestKernelFlowReport_SaysWhatItLeftOut(t *testing.T) {
	kerneltest.Require(t)
	r, _ := frameRun(3,
		pkt.UDP4("10.2.0.1:4000", "10.3.0.1:53", nil),
		[]byte{1, 2, 3, 4, 5, 6, 7, 8}, // a runt: no Ethernet header
		pkt.UDP4("10.2.0.2:4000", "10.3.0.1:53", nil),
		pkt.UDP4("10.2.0.3:4000", "10.3.0.1:53", nil),
	)
	r.Kernel = KernelOn
	line, err := kernelFlowReport(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(line, "on every packet (") {
		t.Errorf("kernel line claims every packet, but the runt was not run:\n%s", line)
	}
	for _, want := range []string{"3 of the 4 packets compared one by one", "1 shorter than an Ethernet header"} {
		if !strings.Contains(line, want) {
			t.Errorf("kernel line lacks %q:\n%s", want, line)
		}
	}
}

// flowMixFrames is a small trace of known make-up: 11 frames, all parsed;
// 9 IPv4 and 2 IPv6; a first and a later IPv4 fragment (both UDP); 3 TCP,
// 5 UDP, 2 ICMP (one v4, one v6) and 1 GRE; flow b (TCP) of 2 packets
// appears before flow a (UDP) of 3.
func flowMixFrames() [][]byte {
	src, dst := pkt.Addr("10.0.0.1"), pkt.Addr("10.0.0.2")
	b := pkt.TCP4("10.0.0.3:1000", "10.0.0.4:80", 0, nil)
	a := pkt.UDP4("10.0.0.5:2000", "10.0.0.6:53", nil)
	return [][]byte{
		b,
		pkt.Frame{IP4: &pkt.IPv4{Src: src, Dst: dst, ID: 7, Flags: pkt.MF}, UDP: &pkt.UDP{SrcPort: 1, DstPort: 2}, Payload: make([]byte, 16)}.Bytes(),
		pkt.Frame{IP4: &pkt.IPv4{Src: src, Dst: dst, ID: 7, FragOffset: 3, Protocol: flow.ProtoUDP}, Payload: make([]byte, 16)}.Bytes(),
		a,
		pkt.TCP6("[fd00::1]:1000", "[fd00::2]:80", 0, nil),
		pkt.ICMP6("fd00::1", "fd00::2", 128, 0, nil),
		pkt.ICMP4("10.0.0.1", "10.0.0.2", 8, 0, nil),
		pkt.Frame{IP4: &pkt.IPv4{Src: src, Dst: dst, Protocol: 47}, Payload: make([]byte, 8)}.Bytes(),
		b, a, a,
	}
}

// TestFlowSection_Counts: the flow section's counts on a trace of known
// make-up, and its top table: the largest flow first.
func TestFlowSection_Counts(t *testing.T) {
	frames := flowMixFrames()
	r, out := frameRun(1, frames...)
	r.Top = 1
	if err := flowSection(r); err != nil {
		t.Fatal(err)
	}
	bytes := 0
	for _, f := range frames {
		bytes += len(f)
	}
	for measure, want := range map[string]string{
		"packets":                  "11",
		"bytes as Ethernet frames": strconv.Itoa(bytes),
		"distinct flows":           "8",
		"parse ok":                 "11",
		"first fragments":          "1",
		"later fragments":          "1",
		"IPv4":                     "9",
		"IPv6":                     "2",
		"TCP":                      "3",
		"UDP":                      "5",
		"ICMP/ICMPv6":              "2",
		"other protocols":          "1",
	} {
		if got := row(t, out.String(), measure); got != want {
			t.Errorf("%s: %s, want %s", measure, got, want)
		}
	}
	top := regexp.MustCompile(`(?m)^(\d+)\s+(\S+ > \S+ \S+)\s+(\d+)\s+(\S+)$`).FindAllStringSubmatch(out.String(), -1)
	if len(top) != 1 || top[0][2] != "10.0.0.5:2000 > 10.0.0.6:53 udp" || top[0][3] != "3" || top[0][4] != "27.3%" {
		t.Errorf("top 1 table %q, want flow a with 3 packets (27.3%% of 11):\n%s", top, out)
	}
}

// TestFlowSection_TopZero: -top 0 shows no top table.
func TestFlowSection_TopZero(t *testing.T) {
	r, out := frameRun(1, flowMixFrames()...)
	if err := flowSection(r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "top ") {
		t.Errorf("-top 0 shows a top table:\n%s", out)
	}
}

// TestFlowRecordMismatch: a kernel record agrees with flow.Parse only if
// its outcome, frame length, whole Info and key hash all do; for a frame
// that does not parse, only the outcome and frame length count.
func TestFlowRecordMismatch(t *testing.T) {
	const seed = 9
	frame := pkt.Frame{IP4: &pkt.IPv4{Src: pkt.Addr("10.0.0.1"), Dst: pkt.Addr("10.0.0.2"), ID: 77}, UDP: &pkt.UDP{SrcPort: 1, DstPort: 2}}.Bytes()
	info, err := flow.Parse(frame)
	if err != nil {
		t.Fatal(err)
	}
	good := flowxdp.Event{Outcome: flow.OutcomeOK, Info: info, Hash: info.Key.Hash(seed), FrameLen: len(frame)}
	if d := flowRecordMismatch(good, frame, info, nil, seed); d != "" {
		t.Fatalf("the matching record differs: %s", d)
	}
	for name, change := range map[string]func(*flowxdp.Event){
		"outcome":      func(e *flowxdp.Event) { e.Outcome = flow.OutcomeMalformed },
		"frame length": func(e *flowxdp.Event) { e.FrameLen-- },
		"IP id":        func(e *flowxdp.Event) { e.Info.IPID++ },
		"L4 offset":    func(e *flowxdp.Event) { e.Info.L4Offset++ },
		"key":          func(e *flowxdp.Event) { e.Info.Key = flow.Key{} },
		"hash":         func(e *flowxdp.Event) { e.Hash++ },
	} {
		ev := good
		change(&ev)
		if d := flowRecordMismatch(ev, frame, info, nil, seed); d == "" {
			t.Errorf("a record with another %s agrees", name)
		}
	}

	cut := frame[:20]
	cinfo, cerr := flow.Parse(cut)
	if cerr == nil {
		t.Fatal("a frame cut in its IPv4 header parses")
	}
	ev := flowxdp.Event{Outcome: flow.OutcomeOf(cerr), Info: info, Hash: 1, FrameLen: len(cut)}
	if d := flowRecordMismatch(ev, cut, cinfo, cerr, seed); d != "" {
		t.Errorf("the record of a frame that does not parse differs by more than outcome and length: %s", d)
	}
}

// TestKernelFlowReport_RuntsAndHeaderOnlyFrames: a frame of exactly an
// Ethernet header is run through the kernel; only shorter ones are left
// out, and counted as such.
func TestKernelFlowReport_RuntsAndHeaderOnlyFrames(t *testing.T) {
	kerneltest.Require(t)
	f := pkt.UDP4("10.2.0.1:4000", "10.3.0.1:53", nil)
	r, _ := frameRun(3, f, f[:14], f[:8])
	r.Kernel = KernelOn
	line, err := kernelFlowReport(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2 of the 3 packets compared one by one", "not run: 1 shorter than an Ethernet header)"} {
		if !strings.Contains(line, want) {
			t.Errorf("kernel line lacks %q:\n%s", want, line)
		}
	}
}

// TestKernelFlowReport_EveryFrameRun: when the kernel ran every frame, the
// agreement line claims every packet, without a "not run" list.
func TestKernelFlowReport_EveryFrameRun(t *testing.T) {
	kerneltest.Require(t)
	r, _ := frameRun(3, pkt.UDP4("10.2.0.1:4000", "10.3.0.1:53", nil), pkt.UDP4("10.2.0.2:4000", "10.3.0.1:53", nil))
	r.Kernel = KernelOn
	line, err := kernelFlowReport(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := "agrees with flow.Parse on every packet (2 packets compared one by one"; !strings.Contains(line, want) || strings.Contains(line, "not run") {
		t.Errorf("kernel line lacks %q or has a \"not run\" list:\n%s", want, line)
	}
}

// TestFlowCompareRecords: every frame's record is compared with
// flow.Parse's result; each frame whose record differs counts once, the
// first one is named (counted from 1), and Go's outcomes are counted per
// frame; a record's error is returned.
func TestFlowCompareRecords(t *testing.T) {
	const seed = 4
	a := pkt.UDP4("10.0.0.1:1000", "10.0.0.2:53", nil)
	b := pkt.TCP4("10.0.0.3:1000", "10.0.0.4:80", 0, nil)
	cut := a[:20] // in the IPv4 header: truncated
	frames := [][]byte{a, cut, b, a}
	record := func(f []byte) flowxdp.Event {
		info, err := flow.Parse(f)
		ev := flowxdp.Event{Outcome: flow.OutcomeOf(err), FrameLen: len(f)}
		if err == nil {
			ev.Info, ev.Hash = info, info.Key.Hash(seed)
		}
		return ev
	}
	var want [flow.NumOutcomes]uint64
	want[flow.OutcomeOK], want[flow.OutcomeTruncated] = 3, 1
	r, _ := frameRun(seed)
	for _, tc := range []struct {
		name     string
		change   map[int]func(*flowxdp.Event) // by frame index
		bad      int
		firstBad string
	}{
		{"agree", nil, 0, ""},
		{"last frame's hash", map[int]func(*flowxdp.Event){3: func(e *flowxdp.Event) { e.Hash++ }}, 1, "frame 4: key hash"},
		{"two frames", map[int]func(*flowxdp.Event){
			1: func(e *flowxdp.Event) { e.Outcome = flow.OutcomeOK },
			2: func(e *flowxdp.Event) { e.FrameLen++ },
		}, 2, "frame 2: outcome"},
		{"first frame's key", map[int]func(*flowxdp.Event){0: func(e *flowxdp.Event) { e.Info.Key = flow.Key{} }}, 1, "frame 1: info"},
	} {
		calls := 0
		c, err := flowCompareRecords(r, frames, func(i int, f []byte) (flowxdp.Event, error) {
			if i != calls {
				t.Errorf("%s: record called with index %d for frame %d", tc.name, i, calls)
			}
			calls++
			ev := record(f)
			if ch := tc.change[i]; ch != nil {
				ch(&ev)
			}
			return ev, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if c.frames != len(frames) || c.bad != tc.bad || !strings.HasPrefix(c.firstBad, tc.firstBad) || (tc.bad == 0) != (c.firstBad == "") || c.want != want {
			t.Errorf("%s: %+v, want %d frames, %d bad, first %q..., Go outcomes %v", tc.name, c, len(frames), tc.bad, tc.firstBad, want)
		}
	}
	boom := errors.New("boom")
	if _, err := flowCompareRecords(r, frames, func(int, []byte) (flowxdp.Event, error) { return flowxdp.Event{}, boom }); !errors.Is(err, boom) {
		t.Errorf("record error: got %v", err)
	}
}

// TestFlowComparisonDisagreement: the section fails when a record differs
// (named first), or else when the kernel's count of one outcome or its
// digest differs from Go's; the report's words say DISAGREES.
func TestFlowComparisonDisagreement(t *testing.T) {
	want := [flow.NumOutcomes]uint64{5, 1, 2, 3}
	agree := flowComparison{frames: 11, want: want}
	stats := flowxdp.Stats{Outcomes: want, Digest: 0xabc}
	if words, err := agree.disagreement(stats, 0xabc); words != "" || err != nil {
		t.Errorf("agreeing kernel: %q, %v", words, err)
	}
	for o := range want {
		st := stats
		st.Outcomes[o]++
		words, err := agree.disagreement(st, 0xabc)
		if words != "DISAGREES with flow.Parse" || err == nil || !strings.Contains(err.Error(), fmt.Sprintf("outcomes %v, Go %v", st.Outcomes, want)) {
			t.Errorf("outcome %d counted once more: %q, %v", o, words, err)
		}
	}
	words, err := agree.disagreement(stats, 0xabd)
	if words != "DISAGREES with flow.Parse" || err == nil || !strings.Contains(err.Error(), "digest 0xabc, Go 0xabd") {
		t.Errorf("other digest: %q, %v", words, err)
	}
	for _, n := range []int{1, 2} {
		bad := agree
		bad.bad, bad.firstBad = n, "frame 3: outcome"
		words, err = bad.disagreement(stats, 0xabc)
		if words != fmt.Sprintf("DISAGREES with flow.Parse on %d of 11 packets (first frame 3: outcome)", n) || err == nil ||
			err.Error() != fmt.Sprintf("flow kernel disagrees with flow.Parse on %d of 11 packets, first frame 3: outcome", n) {
			t.Errorf("%d records differ: %q, %v", n, words, err)
		}
	}
}
