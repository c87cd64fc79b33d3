package main

import (
	"fmt"

	"github.com/dataplane-go/dataplane/bloom"
	bloomxdp "github.com/dataplane-go/dataplane/bloom/xdp"
	"github.com/dataplane-go/dataplane/flow"
)

func init() {
	register(Section{Name: "bloom", Order: 20, Run: bloomSection})
}

// bloomFPR is the false-positive rate the section's filters are sized for.
const bloomFPR = 0.01

// bloomSection reports what Bloom filters do with the trace: the number of
// distinct flows estimated from a filter of every packet's key, the
// false-positive rate of filters holding half the flows measured on the
// other half, the speed of the Go filters, and the kernel: verdicts of a
// blocklist on every frame compared with Go, a learn-mode filter read back,
// and its ns/packet above an XDP_DROP floor.
func bloomSection(r *Run) error {
	flows := r.Flows()
	keys := r.Keys()
	if len(flows) < 2 {
		r.Printf("fewer than two flows: nothing to filter\n")
		return nil
	}
	// Distinct-flow estimate from a filter of every packet's key.
	all := bloom.MustNew(bloom.ParamsFor(uint64(len(flows)), bloomFPR).WithSeed(r.Seed))
	for i := range keys {
		all.Add(keys[i].Bytes())
	}
	est := all.EstimatedCount()

	// Members: every other flow; the rest measure false positives.
	var members, absent []flow.Key
	for i, k := range flows {
		if i%2 == 0 {
			members = append(members, k)
		} else {
			absent = append(absent, k)
		}
	}
	n := uint64(len(members))
	cp := bloom.ParamsFor(n, bloomFPR).WithSeed(r.Seed)
	bp := bloom.BlockedParamsFor(n, bloomFPR).WithSeed(r.Seed)
	classic, blocked := bloom.MustNew(cp), bloom.MustNewBlocked(bp)
	counting := bloom.MustNewCounting(cp, 4)
	for i := range members {
		classic.Add(members[i].Bytes())
		blocked.Add(members[i].Bytes())
		counting.Add(members[i].Bytes())
	}
	fp := func(contains func([]byte) bool) float64 {
		c := 0
		for i := range absent {
			if contains(absent[i].Bytes()) {
				c++
			}
		}
		return float64(c) / float64(len(absent))
	}

	t := r.Table("measure", "value")
	t.Row("distinct flows", len(flows))
	t.Row("estimated from a filter of every packet", fmt.Sprintf("%.0f (%+.2f%%)", est, 100*(est-float64(len(flows)))/float64(len(flows))))
	t.Row("filter members (every other flow)", n)
	if err := t.Flush(); err != nil {
		return err
	}

	var sink bool
	timeAdd := func(add func([]byte)) float64 {
		return r.TimePer(len(members), func() {
			for i := range members {
				add(members[i].Bytes())
			}
		})
	}
	timeContains := func(contains func([]byte) bool) float64 {
		return r.TimePer(len(flows), func() {
			for i := range flows {
				sink = sink != contains(flows[i].Bytes())
			}
		})
	}
	r.Printf("\nfilters sized for %d flows at fpr %g, false positives measured on the other %d flows\n", n, bloomFPR, len(absent))
	t = r.Table("filter", "bits/flow", "k", "predicted fpr", "measured fpr", "Go add ns/key", "Go contains ns/key")
	t.Row("classic", float64(cp.Bits)/float64(n), cp.Hashes, bloom.FalsePositiveRate(cp.Bits, cp.Hashes, n), fp(classic.Contains),
		timeAdd(classic.Add), timeContains(classic.Contains))
	t.Row("blocked", float64(bp.Bits)/float64(n), bp.Hashes, bloom.BlockedFalsePositiveRate(bp.Bits, bp.Hashes, n), fp(blocked.Contains),
		timeAdd(blocked.Add), timeContains(blocked.Contains))
	removeNs := r.TimePer(len(members), func() {
		for i := range members {
			_ = counting.Remove(members[i].Bytes())
			counting.Add(members[i].Bytes())
		}
	})
	t.Row("counting (4-bit)", float64(4*cp.Bits)/float64(n), cp.Hashes, bloom.FalsePositiveRate(cp.Bits, cp.Hashes, n), fp(counting.Contains),
		fmt.Sprintf("%.1f (remove+add)", removeNs), timeContains(counting.Contains))
	if err := t.Flush(); err != nil {
		return err
	}
	_ = sink

	line, err := bloomKernelReport(r, classic, members)
	r.Printf("%s\n", line)
	return err
}

// bloomKernelReport runs bloom/xdp as a blocklist of the filter's flows on
// every frame and compares each verdict with the Go model; then in learn
// mode, comparing the filter read back with Go's; then measures the
// kernel's time per packet above an XDP_DROP floor.
func bloomKernelReport(r *Run, f *bloom.Filter, members []flow.Key) (string, error) {
	if !r.KernelAllowed() {
		return "kernel: not run (-kernel off)", nil
	}
	opts := bloomxdp.Options{Params: f.Params(), Layout: bloomxdp.Classic, Key: bloomxdp.KeyFlow, Action: bloomxdp.DropMembers}
	k, err := bloomxdp.Load(opts)
	if err != nil {
		line, err := r.KernelSkipped("bloom", err)
		return "\n" + line, err
	}
	defer k.Close()
	if err := k.WriteFilter(f); err != nil {
		return "", err
	}
	frames := r.KernelFrames()
	mismatches, err := bloomVerdictMismatches(r, k, &bloomxdp.Model{Options: opts, Filter: f}, frames)
	if err != nil {
		return "", err
	}
	st, err := k.Stats()
	if err != nil {
		return "", err
	}
	// Stats.Malformed counts every frame that does not parse but for
	// those that are not IP: flow.Parse's truncated and malformed alike.
	r.Printf("\nkernel (bloom/xdp, blocklist of the members): %d frames, %d dropped, %d passed (%d not IP, %d truncated or malformed), verdict mismatches with Go: %d\n",
		len(frames), st.Dropped, st.Passed, st.NotIP, st.Malformed, mismatches)

	// Learn mode: the kernel's filter of every frame against Go's.
	lopts := opts
	lopts.Learn = true
	lk, err := bloomxdp.Load(lopts)
	if err != nil {
		return "", err
	}
	defer lk.Close()
	learned, same, err := bloomLearned(lk, &bloomxdp.Model{Options: lopts, Filter: bloom.MustNew(lopts.Params)}, frames)
	if err != nil {
		return "", err
	}
	r.Printf("kernel learn mode: %d bits set, estimated %.0f distinct flows, identical to Go: %v\n",
		learned.SetBits(), learned.EstimatedCount(), same)

	kns, fns, err := r.KernelSpeed(k.Program())
	if err != nil {
		return "", err
	}
	r.Printf("kernel speed: %.1f ns/packet, XDP_DROP floor %.1f ns/packet, net %.1f ns/packet (parse + hash + %d bit tests)\n",
		kns, fns, kns-fns, f.Hashes())
	if err := bloomDisagreement(mismatches, same); err != nil {
		return "", err
	}
	return "kernel: agrees with Go on every frame", nil
}

// verdictRunner is a kernel, or its Go model, as the comparisons see it:
// its verdict on one frame.
type verdictRunner interface {
	Run(frame []byte) (uint32, error)
}

// bloomVerdictMismatches runs every frame through the kernel k and the Go
// model and returns the number of frames whose verdicts differ.
func bloomVerdictMismatches(r *Run, k, model verdictRunner, frames [][]byte) (int, error) {
	mismatches := 0
	for i, fr := range frames {
		v, err := k.Run(fr)
		if err != nil {
			return 0, err
		}
		mv, err := model.Run(fr)
		if err != nil {
			return 0, err
		}
		if v != mv {
			mismatches++
		}
		r.Progress("bloom kernel", i, len(frames))
	}
	return mismatches, nil
}

// bloomLearner is a learn-mode bloom kernel: it runs frames and its filter
// can be read back.
type bloomLearner interface {
	verdictRunner
	Filter() (*bloom.Filter, error)
}

// bloomLearned runs every frame through the learn-mode kernel k and its Go
// model, and returns the kernel's filter read back and whether it is
// identical to the model's.
func bloomLearned(k bloomLearner, model *bloomxdp.Model, frames [][]byte) (*bloom.Filter, bool, error) {
	for _, fr := range frames {
		if _, err := k.Run(fr); err != nil {
			return nil, false, err
		}
		if _, err := model.Run(fr); err != nil {
			return nil, false, err
		}
	}
	learned, err := k.Filter()
	if err != nil {
		return nil, false, err
	}
	return learned, learned.Equal(model.Filter), nil
}

// bloomDisagreement returns the bloom section's error when the kernel
// disagrees with Go: on mismatches verdicts, or in its learned filter
// (same is whether it is identical to Go's); nil when they agree.
func bloomDisagreement(mismatches int, same bool) error {
	if mismatches > 0 || !same {
		return fmt.Errorf("bloom: kernel and Go disagree (%d verdicts, learned filter identical: %v)", mismatches, same)
	}
	return nil
}
