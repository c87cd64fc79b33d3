package main

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/flow"
	flowxdp "github.com/dataplane-go/dataplane/flow/xdp"
)

func init() {
	register(Section{Name: "flow", Order: 10, Run: flowSection})
}

// flowSection reports what the parser saw: volumes, outcomes, protocol
// mix, the largest flows, and the parser's speed in Go (and in the kernel,
// through kernelFlowReport).
func flowSection(r *Run) error {
	var (
		outcomes           [flow.NumOutcomes]int
		first, later       int
		v4, v6             int
		tcp, udp, icmp, ot int
		bytes              int
	)
	for i := range r.Parsed {
		p := &r.Parsed[i]
		bytes += len(r.Frames[i])
		outcomes[flow.OutcomeOf(p.Err)]++
		if p.Err != nil {
			continue
		}
		switch p.Info.Fragment {
		case flow.FirstFragment:
			first++
		case flow.LaterFragment:
			later++
		}
		if p.Info.Key.Is4() {
			v4++
		} else {
			v6++
		}
		switch p.Info.Key.Proto() {
		case flow.ProtoTCP:
			tcp++
		case flow.ProtoUDP:
			udp++
		case flow.ProtoICMP, flow.ProtoICMPv6:
			icmp++
		default:
			ot++
		}
	}
	n := len(r.Parsed)
	ok := outcomes[flow.OutcomeOK]
	pct := func(x, of int) string {
		if of == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(x)/float64(of))
	}
	t := r.Table("measure", "value", "share of packets")
	t.Row("packets", n, "")
	t.Row("bytes as Ethernet frames", bytes, "")
	t.Row("distinct flows", len(r.Flows()), "")
	for o := flow.Outcome(0); o < flow.NumOutcomes; o++ {
		t.Row("parse "+o.String(), outcomes[o], pct(outcomes[o], n))
	}
	if err := t.Flush(); err != nil {
		return err
	}
	r.Printf("\n")
	t = r.Table("of the parsed packets", "value", "share of parsed packets")
	t.Row("first fragments", first, pct(first, ok))
	t.Row("later fragments", later, pct(later, ok))
	t.Row("IPv4", v4, pct(v4, ok))
	t.Row("IPv6", v6, pct(v6, ok))
	t.Row("TCP", tcp, pct(tcp, ok))
	t.Row("UDP", udp, pct(udp, ok))
	t.Row("ICMP/ICMPv6", icmp, pct(icmp, ok))
	t.Row("other protocols", ot, pct(ot, ok))
	if err := t.Flush(); err != nil {
		return err
	}

	if r.Top > 0 && len(r.Flows()) > 0 {
		count := make(map[flow.Key]int, len(r.Flows()))
		for _, k := range r.Keys() {
			count[k]++
		}
		top := slices.Clone(r.Flows()) // in order of first appearance: ties keep it
		slices.SortStableFunc(top, func(a, b flow.Key) int { return cmp.Compare(count[b], count[a]) })
		top = top[:min(r.Top, len(top))]
		r.Printf("\ntop %d flows by packets\n", len(top))
		t = r.Table("#", "flow", "packets", "share of parsed packets")
		for i, k := range top {
			t.Row(i+1, k.String(), count[k], pct(count[k], ok))
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}

	var sink flow.Info
	ns := r.TimePer(len(r.Frames), func() {
		for _, f := range r.Frames {
			sink, _ = flow.Parse(f)
		}
	})
	_ = sink
	r.Printf("\nGo parse: %.1f ns/packet (flow.Parse over the %d frames, repeated for at least %v)\n", ns, len(r.Frames), minMeasure)
	line, err := kernelFlowReport(r)
	r.Printf("%s\n", line)
	return err
}

// kernelFlowReport runs the flow/xdp reference kernel over the run's
// frames and returns one line with its agreement with flow.Parse and one
// with the kernel's ns/packet next to the XDP_DROP floor. Agreement is
// checked packet by packet (each frame's record: outcome, frame length,
// Info and key hash) and over the whole run (the per-outcome packet
// counts, and the XOR of the hashes of every parsed key, in which the
// packets of a flow with an even count cancel).
func kernelFlowReport(r *Run) (string, error) {
	if !r.KernelAllowed() {
		return "kernel: not run (-kernel off)", nil
	}
	if len(r.KernelFrames()) == 0 {
		return "kernel: not run (no frame holds an Ethernet header)", nil
	}
	k, err := flowxdp.Load(flowxdp.Options{Seed: r.Seed, Events: true})
	if err != nil {
		return r.KernelSkipped("flow", err)
	}
	defer k.Close()
	frames := r.KernelFrames()
	c, err := flowCompareRecords(r, frames, func(i int, f []byte) (flowxdp.Event, error) {
		if _, err := k.Program().Run(&ebpf.RunOptions{Data: f, Repeat: 1}); err != nil {
			return flowxdp.Event{}, fmt.Errorf("flow kernel: test run on frame %d: %w", i+1, err)
		}
		ev, err := k.NextEvent(0) // one record per run, read at once: the ring never fills
		if err != nil {
			return flowxdp.Event{}, fmt.Errorf("flow kernel: record of frame %d: %w", i+1, err)
		}
		return ev, nil
	})
	if err != nil {
		return "", err
	}
	got, err := k.Stats()
	if err != nil {
		return "", err
	}
	digest := flowxdp.Digest(frames, r.Seed)
	agree := fmt.Sprintf("agrees with flow.Parse on every packet (%d packets compared one by one: outcome, Info, key hash; outcome counts and key-hash digest)", len(frames))
	if len(frames) < len(r.Frames) {
		runts := 0
		for _, f := range r.Frames {
			if len(f) < 14 {
				runts++
			}
		}
		var left []string
		if runts > 0 {
			left = append(left, fmt.Sprintf("%d shorter than an Ethernet header", runts))
		}
		if n := len(r.Frames) - runts - len(frames); n > 0 {
			left = append(left, fmt.Sprintf("%d past the first %d frames", n, kernelMaxFrames))
		}
		agree = fmt.Sprintf("agrees with flow.Parse on every packet it ran (%d of the %d packets compared one by one: outcome, Info, key hash; outcome counts and key-hash digest; not run: %s)",
			len(frames), len(r.Frames), strings.Join(left, ", "))
	}
	if disagrees, derr := c.disagreement(got, digest); derr != nil {
		agree, err = disagrees, derr
	}
	// Speed of the kernel without per-packet records, as deployed for
	// counting.
	sk, serr := flowxdp.Load(flowxdp.Options{Seed: r.Seed})
	if serr != nil {
		return "", errors.Join(err, serr)
	}
	defer sk.Close()
	ns, floor, serr := r.KernelSpeed(sk.Program())
	if serr != nil {
		return "", errors.Join(err, serr)
	}
	return fmt.Sprintf("kernel: %d frames; %s\nkernel parse+hash: %.1f ns/packet, XDP_DROP floor %.1f ns/packet (net %.1f)",
		len(frames), agree, ns, floor, ns-floor), err
}

// flowComparison is the kernel's records of frames compared with
// flow.Parse, frame by frame: the frames compared, how many records
// differ, the first difference, and Go's count of each parse outcome.
type flowComparison struct {
	frames   int
	bad      int
	firstBad string // "frame i: what differs", i counted from 1
	want     [flow.NumOutcomes]uint64
}

// flowCompareRecords gets the kernel's record of each frame from record
// (called with the frame's index, from 0) and compares it with
// flow.Parse's result (flowRecordMismatch).
func flowCompareRecords(r *Run, frames [][]byte, record func(i int, frame []byte) (flowxdp.Event, error)) (flowComparison, error) {
	c := flowComparison{frames: len(frames)}
	for i, f := range frames {
		ev, err := record(i, f)
		if err != nil {
			return c, err
		}
		info, perr := flow.Parse(f)
		c.want[flow.OutcomeOf(perr)]++
		if d := flowRecordMismatch(ev, f, info, perr, r.Seed); d != "" {
			if c.bad++; c.bad == 1 {
				c.firstBad = fmt.Sprintf("frame %d: %s", i+1, d)
			}
		}
		r.Progress("kernel", i+1, len(frames))
	}
	return c, nil
}

// disagreement returns the flow section's error, and the report's words
// for it, when the kernel disagrees with flow.Parse: on a frame's record,
// or over the whole run, in its per-outcome counts (got.Outcomes) or
// key-hash digest (got.Digest, against Go's digest); "", nil when they
// agree.
func (c flowComparison) disagreement(got flowxdp.Stats, digest uint64) (string, error) {
	switch {
	case c.bad > 0:
		return fmt.Sprintf("DISAGREES with flow.Parse on %d of %d packets (first %s)", c.bad, c.frames, c.firstBad),
			fmt.Errorf("flow kernel disagrees with flow.Parse on %d of %d packets, first %s", c.bad, c.frames, c.firstBad)
	case got.Outcomes != c.want || got.Digest != digest:
		return "DISAGREES with flow.Parse",
			fmt.Errorf("flow kernel disagrees with flow.Parse: outcomes %v, Go %v; digest %#x, Go %#x", got.Outcomes, c.want, got.Digest, digest)
	}
	return "", nil
}

// flowRecordMismatch describes how the kernel's record of frame differs
// from flow.Parse's result (info, err), or returns "".
func flowRecordMismatch(ev flowxdp.Event, frame []byte, info flow.Info, err error, seed uint64) string {
	if o := flow.OutcomeOf(err); ev.Outcome != o {
		return fmt.Sprintf("outcome: kernel %v, Go %v", ev.Outcome, o)
	}
	if ev.FrameLen != len(frame) {
		return fmt.Sprintf("frame length: kernel %d, Go %d", ev.FrameLen, len(frame))
	}
	if err != nil {
		return ""
	}
	if ev.Info != info {
		return fmt.Sprintf("info: kernel %v, Go %v", ev.Info.Key, info.Key)
	}
	if h := info.Key.Hash(seed); ev.Hash != h {
		return fmt.Sprintf("key hash: kernel %#x, Go %#x", ev.Hash, h)
	}
	return ""
}
