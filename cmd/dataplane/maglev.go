package main

import (
	"fmt"
	"net/netip"

	"github.com/dataplane-go/dataplane/maglev"
	maglevxdp "github.com/dataplane-go/dataplane/maglev/xdp"
)

func init() {
	register(Section{Name: "maglev", Order: 60, Run: maglevSection})
}

// maglevBackends is the simulated pool: 10.1.0.1 to 10.1.0.n.
func maglevBackends(n int) []maglev.Backend {
	bs := make([]maglev.Backend, n)
	for i := range bs {
		bs[i] = maglev.Backend{Name: fmt.Sprintf("10.1.0.%d", i+1), Weight: 1}
	}
	return bs
}

// maglevSection balances the trace's flows over ten backends with a
// Maglev table (M = 65537) and with a ring (160 points per backend):
// shares of entries, flows and packets, the imbalance, and what moves when
// a backend leaves or joins; then the kernel does the same on every frame.
func maglevSection(r *Run) error {
	const n = 10
	bs := maglevBackends(n)
	tb, err := maglev.New(maglev.Params{Size: maglev.DefaultSize, Seed: r.Seed}, bs)
	if err != nil {
		return err
	}
	ring, err := maglev.NewRing(maglev.RingParams{VirtualNodes: maglev.DefaultVirtualNodes, Seed: r.Seed}, bs)
	if err != nil {
		return err
	}
	flows := r.Flows()
	fh := make([]uint64, len(flows))
	for i := range flows {
		fh[i] = flows[i].Hash(r.Seed)
	}
	keys := r.Keys()
	ph := make([]uint64, len(keys))
	for i := range keys {
		ph[i] = keys[i].Hash(r.Seed)
	}
	if len(flows) == 0 {
		r.Printf("no flow to balance\n")
		return nil
	}
	tf, tp := maglev.Tally(tb, n, fh), maglev.Tally(tb, n, ph)
	rf := maglev.Tally(ring, n, fh)
	r.Printf("%d flows (%d packets) over %d backends; Maglev M = %d, ring %d points per backend\n",
		len(flows), len(keys), n, tb.Size(), maglev.DefaultVirtualNodes)
	t := r.Table("backend", "entries", "maglev flows", "maglev packets", "ring flows")
	for i := 0; i < n; i++ {
		t.Row(tb.Backend(i).Name, tb.Count(i),
			fmt.Sprintf("%.1f%%", 100*tf[i]/float64(len(fh))),
			fmt.Sprintf("%.1f%%", 100*tp[i]/float64(len(ph))),
			fmt.Sprintf("%.1f%%", 100*rf[ring.Index(tb.Backend(i).Name)]/float64(len(fh))))
	}
	if err := t.Flush(); err != nil {
		return err
	}
	lo, hi := tb.MinMax()
	r.Printf("\nmax/mean load: maglev entries %.4f (%d to %d), maglev flows %.3f, maglev packets %.3f, ring flows %.3f\n",
		maglev.MaxMean(floats(tb)), lo, hi, maglev.MaxMean(tf), maglev.MaxMean(tp), maglev.MaxMean(rf))

	// Disruption: the last backend leaves; a new one joins.
	less, err := tb.Update(bs[:n-1])
	if err != nil {
		return err
	}
	more, err := tb.Update(append(maglevBackends(n), maglev.Backend{Name: "10.1.0.99", Weight: 1}))
	if err != nil {
		return err
	}
	ringLess, _ := ring.Update(bs[:n-1])
	ringMore, _ := ring.Update(append(maglevBackends(n), maglev.Backend{Name: "10.1.0.99", Weight: 1}))
	r.Printf("\n")
	t = r.Table("change", "ideal", "maglev hash space", "maglev flows", "ring flows")
	t.Row("one backend leaves", fmt.Sprintf("%.2f%%", 100.0/n), fmt.Sprintf("%.2f%%", 100*maglev.Moved(tb, less)),
		fmt.Sprintf("%.2f%%", 100*maglev.MovedFlows(tb, less, fh)), fmt.Sprintf("%.2f%%", 100*maglev.MovedFlows(ring, ringLess, fh)))
	t.Row("one backend joins", fmt.Sprintf("%.2f%%", 100.0/(n+1)), fmt.Sprintf("%.2f%%", 100*maglev.Moved(tb, more)),
		fmt.Sprintf("%.2f%%", 100*maglev.MovedFlows(tb, more, fh)), fmt.Sprintf("%.2f%%", 100*maglev.MovedFlows(ring, ringMore, fh)))
	if err := t.Flush(); err != nil {
		return err
	}

	sink := 0
	nsTable := r.TimePer(len(keys), func() {
		for i := range keys {
			j, _ := tb.PickKey(&keys[i], r.Seed)
			sink += j
		}
	})
	nsRing := r.TimePer(len(keys), func() {
		for i := range keys {
			j, _ := ring.Pick(keys[i].Hash(r.Seed))
			sink += j
		}
	})
	_ = sink
	r.Printf("\nGo pick (hash included): maglev %.1f ns/packet, ring %.1f ns/packet\n", nsTable, nsRing)
	line, err := maglevKernelReport(r, bs)
	r.Printf("%s\n", line)
	return err
}

func floats(tb *maglev.Table) []float64 {
	out := make([]float64, tb.Len())
	for i := range out {
		out[i] = float64(tb.Count(i))
	}
	return out
}

// maglevKernelReport runs maglev/xdp over every frame with a catch-all
// VIP on the same backends and compares each verdict and frame out with
// the Go model.
func maglevKernelReport(r *Run, bs []maglev.Backend) (string, error) {
	if !r.KernelAllowed() {
		return "kernel: not run (-kernel off)", nil
	}
	opts := maglevxdp.Options{Seed: r.Seed, Table: maglev.Params{Seed: r.Seed}, MTU: 65535}
	lb, err := maglevxdp.Load(opts)
	if err != nil {
		return r.KernelSkipped("maglev", err)
	}
	defer lb.Close()
	model, err := maglevxdp.NewModel(opts)
	if err != nil {
		return "", err
	}
	cfg := maglevxdp.Config{SrcMAC: []byte{2, 0, 0, 0, 0, 1}, DstMAC: []byte{2, 0, 0, 0, 0, 2}, Src4: netip.MustParseAddr("192.0.2.1")}
	xb := make([]maglevxdp.Backend, len(bs))
	for i, b := range bs {
		xb[i] = maglevxdp.Backend{Addr: netip.MustParseAddr(b.Name), Weight: b.Weight}
	}
	for _, step := range []error{lb.SetConfig(cfg), model.SetConfig(cfg)} {
		if step != nil {
			return "", step
		}
	}
	if _, err := lb.SetVIP(maglevxdp.VIP{}, xb); err != nil {
		return "", err
	}
	if _, err := model.SetVIP(maglevxdp.VIP{}, xb); err != nil {
		return "", err
	}
	frames := r.KernelFrames()
	mismatches, err := maglevMismatches(r, lb, model, frames)
	if err != nil {
		return "", err
	}
	st, err := lb.Stats()
	if err != nil {
		return "", err
	}
	// Every frame is sent, passed or dropped: each count by its reason.
	r.Printf("\nkernel (maglev/xdp, catch-all VIP): %d frames, %d sent (%d of them ICMP errors, with the flow they quote), %d passed (%d not parsed: not IP, truncated or malformed; %d VLAN-tagged; %d with no VIP; %d later fragments of an unknown datagram), %d dropped, mismatches with Go: %d\n",
		len(frames), st.TX, st.ICMPQuote, st.PassParse+st.PassVLAN+st.PassNotVIP+st.PassFragMiss,
		st.PassParse, st.PassVLAN, st.PassNotVIP, st.PassFragMiss,
		st.DropNoTable+st.DropNoBackend+st.DropTooBig+st.DropEncap+st.DropNoSource, mismatches)
	t := r.Table("backend", "packets", "bytes out")
	for _, b := range xb {
		s := st.Backends[b.Addr]
		t.Row(b.Addr, s.Packets, s.Bytes)
	}
	if err := t.Flush(); err != nil {
		return "", err
	}
	if err := maglevDisagreement(mismatches, len(frames)); err != nil {
		return "", err
	}
	return "kernel: agrees with Go on every frame", nil
}

// maglevKernel is maglev/xdp as maglevMismatches sees it: a verdict and
// the frame out for each frame in.
type maglevKernel interface {
	Run(frame []byte) (verdict uint32, out []byte, err error)
}

// maglevModel is the Go model of maglev/xdp as maglevMismatches sees it.
type maglevModel interface {
	Process(frame []byte) (verdict uint32, out []byte, backend netip.Addr)
}

// maglevMismatches runs every frame through the kernel k and the Go model
// and returns the number of frames on which they differ (maglevDiffers).
func maglevMismatches(r *Run, k maglevKernel, model maglevModel, frames [][]byte) (int, error) {
	mismatches := 0
	for i, f := range frames {
		v, out, err := k.Run(f)
		if err != nil {
			return 0, err
		}
		mv, mout, _ := model.Process(f)
		if maglevDiffers(v, out, mv, mout) {
			mismatches++
		}
		r.Progress("maglev kernel", i, len(frames))
	}
	return mismatches, nil
}

// maglevDiffers reports whether the kernel's verdict v and frame out differ
// from the model's (mv, mout): the verdicts always count, the frames only
// when sent (XDP_TX), as the frames passed or dropped are not compared.
func maglevDiffers(v uint32, out []byte, mv uint32, mout []byte) bool {
	return v != mv || v == maglevxdp.TX && string(out) != string(mout)
}

// maglevDisagreement returns the maglev section's error when the kernel
// and Go disagree on mismatches of the n frames; nil when they agree.
func maglevDisagreement(mismatches, n int) error {
	if mismatches > 0 {
		return fmt.Errorf("maglev: kernel and Go disagree on %d of %d frames", mismatches, n)
	}
	return nil
}
