package main

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/dataplane-go/dataplane/cms"
	cmsxdp "github.com/dataplane-go/dataplane/cms/xdp"
	"github.com/dataplane-go/dataplane/flow"
)

func init() {
	register(Section{Name: "cms", Order: 30, Run: cmsSection})
}

// cmsSection counts every packet per flow in count-min sketches (standard
// and conservative update, eps = 0.001, delta = 0.01) and compares the
// largest flows' estimates with their exact counts; reports the error
// figures, the top-k tracker's recall, the lab's heavy-hitter detector and
// the Go speed; then replays the frames through cms/xdp (sketch and
// detector modes) against Go.
func cmsSection(r *Run) error {
	keys, flows := r.Keys(), r.Flows()
	if len(keys) == 0 {
		r.Printf("no packet parsed: nothing to count\n")
		return nil
	}
	p := cms.ParamsFor(0.001, 0.01).WithSeed(r.Seed)
	std, cons := cms.MustNew(p), cms.MustNew(p.WithConservative(true))
	exact := make(map[flow.Key]uint32, len(flows))
	for i := range keys {
		std.Add(keys[i].Bytes(), 1)
		cons.Add(keys[i].Bytes(), 1)
		exact[keys[i]]++
	}
	r.Printf("sketch: w = %d, d = %d, %d bytes; eps = %.4g, delta = %.3g, N = %d packets, eps*N = %.1f\n",
		p.Width, p.Depth, p.SizeBytes(), p.Epsilon(), p.Delta(), std.Total(), std.ErrorBound())

	top := slices.Clone(flows) // in order of first appearance: ties keep it
	slices.SortStableFunc(top, func(a, b flow.Key) int { return cmp.Compare(exact[b], exact[a]) })
	// Error figures over the top-1000 flows and over all flows.
	measure := func(s *cms.Sketch, ks []flow.Key) (mean, worst float64, over, under int) {
		for _, k := range ks {
			est, c := s.Estimate(k.Bytes()), exact[k]
			if est < c {
				under++
			}
			d := float64(est) - float64(c)
			if d > s.ErrorBound() {
				over++
			}
			mean += d
			worst = math.Max(worst, d)
		}
		return mean / float64(len(ks)), worst, over, under
	}
	top1000 := top[:min(1000, len(top))]
	r.Printf("\nabsolute error (estimate - exact, packets) over the top %d flows and all %d flows\n", len(top1000), len(flows))
	t := r.Table("update", "mean top", "max top", "mean all", "max all", "flows over eps*N", "below exact")
	underAll := 0
	consWorst := 0.0 // the conservative sketch's largest error over the top flows
	for _, s := range []struct {
		name string
		s    *cms.Sketch
	}{{"standard", std}, {"conservative", cons}} {
		mt, xt, _, _ := measure(s.s, top1000)
		if s.s == cons {
			consWorst = xt
		}
		ma, xa, over, under := measure(s.s, flows)
		underAll += under
		t.Row(s.name, mt, xt, ma, xa, fmt.Sprintf("%d (%.2g%%, delta %.2g%%)", over, 100*float64(over)/float64(len(flows)), 100*p.Delta()), under)
	}
	if err := t.Flush(); err != nil {
		return err
	}
	if underAll > 0 {
		return fmt.Errorf("cms: %d estimates below the exact count", underAll)
	}

	// Top-k tracker recall (ties at the k-th count count as correct).
	k := min(100, len(flows))
	tk, err := cms.NewTopK(p.WithConservative(true), k)
	if err != nil {
		return err
	}
	for _, key := range keys {
		tk.Add(key, 1)
	}
	kth := exact[top[k-1]]
	hits := 0
	for _, e := range tk.Top() {
		if exact[e.Key] >= kth {
			hits++
		}
	}
	// Flows whose exact counts lie within the sketch's error of the k-th
	// count are ranked by noise: say how many there are beside the recall.
	near := 0
	for _, f := range flows {
		if math.Abs(float64(exact[f])-float64(kth)) <= consWorst {
			near++
		}
	}
	r.Printf("\ntop-%d tracker (conservative sketch + indexed min-heap): recall %.3f against exact counts (flow %d by exact count has %d packets; %d flows are within %.0f packets of that, the sketch's largest error on the top %d, which it cannot rank)\n",
		k, float64(hits)/float64(k), k, kth, near, consWorst, len(top1000))
	if r.Top > 0 {
		leaders := tk.Top()
		r.Printf("\ntop %d flows by estimate (tracker) against exact counts\n", min(r.Top, len(leaders)))
		t := r.Table("#", "estimate", "standard", "exact", "flow")
		for i, e := range leaders[:min(r.Top, len(leaders))] {
			t.Row(i+1, e.Count, std.Estimate(e.Key.Bytes()), exact[e.Key], e.Key.String())
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}

	// The lab's detector (d = 2, w = 4096, threshold 1000).
	det, err := cms.NewDetector(cms.LabParams(4096, r.Seed), cms.DefaultThreshold)
	if err != nil {
		return err
	}
	drops, droppedReports := 0, 0
	var heavy []flow.Key
	for _, key := range keys {
		drop, report := det.FilterReport(key.Bytes())
		if drop {
			drops++
		}
		switch report {
		case cms.ReportCrossed:
			heavy = append(heavy, key)
		case cms.ReportDropped:
			droppedReports++
		}
	}
	r.Printf("\nlab detector (d = 2, w = 4096, threshold %d): %d flows crossed the threshold, %d more reported on a first drop (counters filled by others), %d packets dropped\n",
		cms.DefaultThreshold, len(heavy), droppedReports, drops)
	for _, h := range heavy[:min(len(heavy), r.Top)] {
		r.Printf("  heavy: %v (exact %d packets)\n", h, exact[h])
	}

	// Go speed.
	addNs := r.TimePer(len(keys), func() {
		for i := range keys {
			std.Add(keys[i].Bytes(), 1)
		}
	})
	consNs := r.TimePer(len(keys), func() {
		for i := range keys {
			cons.Add(keys[i].Bytes(), 1)
		}
	})
	var sink uint32
	estNs := r.TimePer(len(keys), func() {
		for i := range keys {
			sink += std.Estimate(keys[i].Bytes())
		}
	})
	_ = sink
	topNs := r.TimePer(len(keys), func() {
		for _, key := range keys {
			tk.Add(key, 1)
		}
	})
	batch := make([][]byte, len(keys))
	for i := range keys {
		batch[i] = keys[i].Bytes()
	}
	addBatchNs := r.TimePer(len(keys), func() { std.AddBatch(batch, 1) })
	topBatchNs := r.TimePer(len(keys), func() { tk.AddBatch(keys, 1) })
	r.Printf("\nGo speed (ns/packet, hash included): add %.1f (AddBatch %.1f), conservative add %.1f, estimate %.1f, top-%d add %.1f (AddBatch %.1f)\n",
		addNs, addBatchNs, consNs, estNs, k, topNs, topBatchNs)

	line, err := cmsKernelReport(r)
	r.Printf("%s\n", line)
	return err
}

// cmsKernelReport replays the frames through cms/xdp in shared-sketch mode
// with epochs, in two intervals that Flip ends (each interval's sketch
// must equal Go's of its frames, counter for counter), and detector mode,
// with epochs too: the same two intervals, each a fresh detector (every
// verdict and report must equal those of a cms.Detector reset between
// them, each report in its interval's epoch, and each interval's counters
// Go's; the threshold is lowered to 20 packets so that small traces hold
// heavy hitters), then measures the kernel above an XDP_DROP floor.
func cmsKernelReport(r *Run) (string, error) {
	if !r.KernelAllowed() {
		return "kernel: not run (-kernel off)", nil
	}
	frames := r.KernelFrames()
	p := cms.Params{Width: 4096, Depth: 4, Seed: r.Seed}
	k, err := cmsxdp.Load(cmsxdp.Options{Params: p, Mode: cmsxdp.ModeShared, Epochs: true})
	if err != nil {
		line, err := r.KernelSkipped("cms", err)
		return "\n" + line, err
	}
	defer k.Close()
	var diff int
	var gotN, wantN uint64
	var sizes []string
	halves := [][][]byte{frames[:len(frames)/2], frames[len(frames)/2:]}
	for half, part := range halves {
		want := cms.MustNew(p)
		for i, fr := range part {
			if _, err := k.Run(fr); err != nil {
				return "", err
			}
			if info, err := flow.Parse(fr); err == nil {
				want.Add(info.Key.Bytes(), 1)
			}
			r.Progress("cms kernel", half*(len(frames)/2)+i, len(frames))
		}
		got, err := k.Flip()
		if err != nil {
			return "", err
		}
		diff += cmsCounterDiff(got.Counters(), want.Counters())
		gotN, wantN = gotN+got.Total(), wantN+want.Total()
		sizes = append(sizes, fmt.Sprintf("%d (Go %d)", got.Total(), want.Total()))
	}
	r.Printf("\nkernel sketch (cms/xdp, shared counters, w = %d, d = %d, two epochs): %d frames, N = %s in the two intervals Flip ended, counters differing from Go: %d of %d\n",
		p.Width, p.Depth, len(frames), strings.Join(sizes, " + "), diff, 2*p.Counters())

	// Detector mode, pinned to one CPU so that its per-CPU counters are one
	// sketch, as the Go model's.
	const thr = 20
	unpin, err := cmsxdp.PinThread()
	if err != nil {
		return "", err
	}
	lp := cms.LabParams(4096, r.Seed)
	dk, err := cmsxdp.Load(cmsxdp.Options{Params: lp, Mode: cmsxdp.ModeDetect, Threshold: thr, Epochs: true})
	if err != nil {
		unpin()
		return "", err
	}
	defer dk.Close()
	det, detDiff, epochDiff, err := cmsDetectEpochs(dk, lp, thr, halves)
	unpin()
	if err != nil {
		return "", err
	}
	diff += detDiff
	reportDiff := cmsReportsDiffer(det.events, det.reports) || epochDiff > 0
	// The kernel's own drop count, read before the speed runs below add
	// to it.
	dst, err := dk.Stats()
	if err != nil {
		return "", err
	}
	r.Printf("kernel detector (d = 2, threshold lowered to %d, the same two intervals as epochs): %d dropped (Go model: %d), %d reports naming %d heavy flows (Go model: %d reports, same keys in the same order and intervals: %v), verdict mismatches with Go: %d, counters differing from Go: %d of %d\n",
		thr, dst.Dropped, det.drops, len(det.events), len(cmsxdp.HeavyFlows(det.events)), len(det.reports), !reportDiff, det.mismatches, detDiff, 2*lp.Counters())

	// Speed above an XDP_DROP floor, per mode.
	pk, err := cmsxdp.Load(cmsxdp.Options{Params: p, Mode: cmsxdp.ModePerCPU})
	if err != nil {
		return "", err
	}
	defer pk.Close()
	var parts []string
	for _, m := range []struct {
		name string
		k    *cmsxdp.Kernel
	}{{"shared d=4 with epochs", k}, {"per-CPU d=4", pk}, {"detector d=2", dk}} {
		kns, fns, err := r.KernelSpeed(m.k.Program())
		if err != nil {
			return "", err
		}
		parts = append(parts, fmt.Sprintf("%s %.1f (net %.1f)", m.name, kns, kns-fns))
	}
	r.Printf("kernel speed, ns/packet (net: less an XDP_DROP floor) for parse + hash + update: %s\n", strings.Join(parts, ", "))
	if err := cmsDisagreement(diff, det.mismatches, reportDiff, gotN, wantN, dst.Dropped, det.drops); err != nil {
		return "", err
	}
	return "kernel: agrees with Go on every counter and every verdict", nil
}

// cmsCounterDiff returns how many of the kernel's counters (got) differ
// from Go's (want), position by position; a counter only one of them has
// differs.
func cmsCounterDiff(got, want []uint32) int {
	diff := max(len(got), len(want)) - min(len(got), len(want))
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			diff++
		}
	}
	return diff
}

// cmsDetectorKernel is cms/xdp in detector mode as cmsDetect sees it: a
// verdict per frame (1 XDP_DROP, 2 XDP_PASS) and the events it sent.
type cmsDetectorKernel interface {
	verdictRunner
	Events() ([]cmsxdp.Event, error)
}

// cmsDetectEpochs runs each part of the frames through the detector
// kernel k, loaded with epochs, in an epoch of its own (part i in epoch
// i%2), against a Go detector of parameters p and threshold thr reset
// between parts (see cmsDetect), and ends each epoch with Flip. It
// returns the parts' detections joined, the counters of the ended epochs
// that differ from the model's, and the kernel's events whose epoch is
// not their part's. The caller keeps the thread pinned to one CPU until
// it returns.
func cmsDetectEpochs(k *cmsxdp.Kernel, p cms.Params, thr uint32, parts [][][]byte) (det cmsDetection, diff, epochDiff int, err error) {
	model, err := cms.NewDetector(p, thr)
	if err != nil {
		return det, 0, 0, err
	}
	for i, part := range parts {
		d, err := cmsDetect(k, model, part)
		if err != nil {
			return det, diff, epochDiff, err
		}
		for _, e := range d.events {
			if e.Epoch != i%2 {
				epochDiff++
			}
		}
		det.events = append(det.events, d.events...)
		det.reports = append(det.reports, d.reports...)
		det.drops += d.drops
		det.mismatches += d.mismatches
		got, err := k.Flip()
		if err != nil {
			return det, diff, epochDiff, err
		}
		diff += cmsCounterDiff(got.Counters(), model.Sketch().Counters())
		model.Reset()
	}
	return det, diff, epochDiff, nil
}

// cmsReport is a report of the Go detector: the flow and why.
type cmsReport struct {
	key    flow.Key
	report cms.Report
}

// cmsDetection is the outcome of running the frames through the kernel's
// detector and Go's: the kernel's events and the model's reports, in
// order, the model's drops, and the frames on which the verdicts differ.
type cmsDetection struct {
	events     []cmsxdp.Event
	reports    []cmsReport
	drops      int
	mismatches int
}

// cmsDetect runs every frame through the detector kernel k and the Go
// detector model (frames that do not parse pass, uncounted), compares the
// verdicts, and reads the kernel's events every 1,024 frames and at the
// end. The caller keeps the thread pinned to one CPU until it returns.
func cmsDetect(k cmsDetectorKernel, model *cms.Detector, frames [][]byte) (cmsDetection, error) {
	var d cmsDetection
	for i, fr := range frames {
		v, err := k.Run(fr)
		if err != nil {
			return d, err
		}
		// A frame sends at most one event; read them before the ring
		// (DefaultEventsBytes, 3,276 events) can fill and lose some.
		if i%1024 == 1023 {
			evs, err := k.Events()
			if err != nil {
				return d, err
			}
			d.events = append(d.events, evs...)
		}
		wantV := cmsxdp.VerdictPass
		if info, err := flow.Parse(fr); err == nil {
			drop, rep := model.FilterReport(info.Key.Bytes())
			if drop {
				wantV, d.drops = cmsxdp.VerdictDrop, d.drops+1
			}
			if rep != cms.ReportNone {
				d.reports = append(d.reports, cmsReport{info.Key, rep})
			}
		}
		if v != wantV {
			d.mismatches++
		}
	}
	evs, err := k.Events()
	if err != nil {
		return d, err
	}
	d.events = append(d.events, evs...)
	return d, nil
}

// cmsReportsDiffer reports whether the kernel's events differ from the
// model's reports: in number, or in the key or kind of one, in order.
func cmsReportsDiffer(events []cmsxdp.Event, reports []cmsReport) bool {
	if len(events) != len(reports) {
		return true
	}
	for i := range events {
		if events[i].Key != reports[i].key || events[i].Report != reports[i].report {
			return true
		}
	}
	return false
}

// cmsDisagreement returns the cms section's error when the kernel
// disagrees with Go: diff sketch counters, its total N (Go's goN), verdicts
// (mismatches), the detector's reports (reportDiff) or its drop count (Go's
// goDrops); nil when they agree.
func cmsDisagreement(diff, mismatches int, reportDiff bool, n, goN, drops uint64, goDrops int) error {
	if diff > 0 || mismatches > 0 || reportDiff || n != goN || drops != uint64(goDrops) {
		return fmt.Errorf("cms: kernel and Go disagree (%d counters, %d verdicts, reports differ: %v, N %d vs %d, detector drops %d vs %d)", diff, mismatches, reportDiff, n, goN, drops, goDrops)
	}
	return nil
}
