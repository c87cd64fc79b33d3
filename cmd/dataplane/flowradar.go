package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/flowradar"
	frxdp "github.com/dataplane-go/dataplane/flowradar/xdp"
)

func init() {
	register(Section{Name: "flowradar", Order: 50, Run: flowradarSection})
}

// flowradarSection encodes the trace in a FlowRadar table sized for its
// flows, decodes it and compares every flow's counters with the exact
// counts; measures the encoder against a Go map; shows the decoded
// fraction against the table's load, single and network-wide (a simulated
// leaf-spine); and replays the frames through the kernel.
func flowradarSection(r *Run) error {
	flows := r.Flows()
	if len(flows) == 0 {
		r.Printf("no flow in the input\n")
		return nil
	}
	type counts struct{ packets, bytes uint64 }
	exact := make(map[flow.Key]counts, len(flows))
	for i := range r.Parsed {
		if r.Parsed[i].Err == nil {
			c := exact[r.Parsed[i].Info.Key]
			exact[r.Parsed[i].Info.Key] = counts{c.packets + 1, c.bytes + uint64(len(r.Frames[i]))}
		}
	}
	p := flowradar.ParamsFor(len(flows), r.Seed)
	enc, err := flowradar.New(p)
	if err != nil {
		return err
	}
	encodeAll := func() {
		for i := range r.Parsed {
			if r.Parsed[i].Err == nil {
				enc.Add(&r.Parsed[i].Info.Key, uint32(len(r.Frames[i])))
			}
		}
	}
	encodeAll()
	tab := enc.Flip()
	start := time.Now()
	d, derr := tab.Decode()
	decodeTime := time.Since(start)
	wrong := 0
	for _, f := range d.Flows {
		if c, ok := exact[f.Key]; !ok || c != (counts{f.Packets, f.Bytes}) {
			wrong++
		}
	}
	keys := r.Keys()
	goNs := r.TimePer(len(keys), func() { enc.Flip(); encodeAll() })
	pkts := make([]flowradar.Packet, 0, len(keys))
	for i := range r.Parsed {
		if r.Parsed[i].Err == nil {
			pkts = append(pkts, flowradar.Packet{Key: r.Parsed[i].Info.Key, Size: uint32(len(r.Frames[i]))})
		}
	}
	batchNs := r.TimePer(len(keys), func() { enc.Flip(); enc.AddPackets(pkts) })
	m := make(map[flow.Key]*counts, len(flows))
	mapNs := r.TimePer(len(keys), func() {
		clear(m)
		for i := range r.Parsed {
			if r.Parsed[i].Err != nil {
				continue
			}
			c := m[r.Parsed[i].Info.Key]
			if c == nil {
				c = new(counts)
				m[r.Parsed[i].Info.Key] = c
			}
			c.packets++
			c.bytes += uint64(len(r.Frames[i]))
		}
	})

	t := r.Table("measure", "value")
	t.Row("flows in the input", len(flows))
	t.Row("table", p.String())
	t.Row("cells per flow", p.CellsPerFlow(len(flows)))
	t.Row("bytes per flow (one epoch)", float64(p.SizeBytes())/float64(len(flows)))
	t.Row("filter false-positive rate (predicted)", p.FilterFPR(len(flows)))
	t.Row("flows decoded", fmt.Sprintf("%d of %d", len(d.Flows), len(flows)))
	t.Row("decoded flows with wrong counters", wrong)
	t.Row("decode error", fmt.Sprint(derr))
	t.Row("decode time", decodeTime.Round(time.Microsecond))
	t.Row("Go encode ns/packet", goNs)
	t.Row("Go encode ns/packet, batched (AddPackets)", batchNs)
	t.Row("Go map (exact) ns/packet", mapNs)
	t.Row("encode / map time", goNs/mapNs)
	if err := t.Flush(); err != nil {
		return err
	}
	if derr == nil && (len(d.Flows) != len(flows) || wrong > 0) {
		return fmt.Errorf("flowradar: decoded %d of %d flows, %d with wrong counters, without an error", len(d.Flows), len(flows), wrong)
	}

	// Decoded fraction against load, one switch and a 4x2 leaf-spine.
	r.Printf("\ndecoded fraction against cells per flow (single: this trace in one table; network: the busiest switch of a 4-leaf 2-spine network at that load)\n")
	t = r.Table("cells/flow", "single", "busiest switch alone", "network-wide", "exact counters")
	probe, _ := flowradar.NewLeafSpine(4, 2, flowradar.ParamsFor(64, 1), r.Seed)
	per := make([]int, 6)
	var path []int
	for i := range flows {
		for _, sw := range probe.Path(&flows[i], path[:0]) {
			per[sw]++
		}
	}
	busiest := 0
	for j := range per {
		if per[j] > per[busiest] {
			busiest = j
		}
	}
	for _, cpf := range []float64{0.8, 1.0, 1.2, 1.3, 1.36} {
		q := p
		q.Cells = (uint32(cpf*float64(len(flows))) + 3) / 4 * 4
		st, err := flowradar.NewTable(q)
		if err != nil || per[busiest] == 0 {
			// Too few flows for a table at this load (a tiny capture).
			t.Row(cpf, "-", "-", "-", "-")
			continue
		}
		for i := range r.Parsed {
			if r.Parsed[i].Err == nil {
				st.Add(&r.Parsed[i].Info.Key, 1)
			}
		}
		sd, _ := st.Decode()
		q.Cells = (uint32(cpf*float64(per[busiest])) + 3) / 4 * 4
		q.FilterBits = p.FilterBits
		net, err := flowradar.NewLeafSpine(4, 2, q, r.Seed)
		if err != nil {
			t.Row(cpf, "-", "-", "-", "-")
			continue
		}
		for i := range r.Parsed {
			if r.Parsed[i].Err == nil {
				net.Send(&r.Parsed[i].Info.Key, uint32(len(r.Frames[i])))
			}
		}
		tabs := net.Flip()
		bd, _ := tabs[busiest].Decode()
		nw, nerr := flowradar.DecodeNetwork(tabs)
		if errors.Is(nerr, flowradar.ErrCorrupt) {
			// The simulated network is lossless and its tables intact:
			// only a decoder bug can find them corrupt.
			return fmt.Errorf("flowradar: network-wide decode at %.2f cells per flow: %w", cpf, nerr)
		}
		ok, all := 0, 0
		for _, f := range nw.Flows {
			for _, c := range f.Counts {
				all++
				if !c.Exact {
					continue
				}
				if uint64(c.Packets) != exact[f.Key].packets {
					return fmt.Errorf("flowradar: network-wide decode at %.2f cells per flow: %v counted %d packets, marked exact, sent %d",
						cpf, f.Key, c.Packets, exact[f.Key].packets)
				}
				ok++
			}
		}
		t.Row(cpf, float64(len(sd.Flows))/float64(len(flows)), float64(len(bd.Flows))/float64(per[busiest]),
			float64(len(nw.Flows))/float64(len(flows)), float64(ok)/float64(max(all, 1)))
	}
	if err := t.Flush(); err != nil {
		return err
	}
	if err := flowradarLocate(r, p, per[busiest]); err != nil {
		return err
	}

	line, err := flowradarKernelReport(r, p)
	r.Printf("\n%s\n", line)
	return err
}

// flowradarLocate replays the trace through a 4-leaf, 2-spine network
// (1.36 cells per flow at the busiest switch) whose first spine drops 1% of
// what it forwards, decodes the six tables together and asks, flow by flow,
// where along its path its count falls (flowradar.Network.Hops). Every
// loss located must be after that spine, and no more packets than it
// dropped; a loss anywhere else is a decoder bug.
func flowradarLocate(r *Run, p flowradar.Params, busiest int) error {
	const leaves, spines, rate = 4, 2, 0.01
	q := p
	q.Cells = (uint32(1.36*float64(busiest)) + 3) / 4 * 4
	net, err := flowradar.NewLeafSpine(leaves, spines, q, r.Seed)
	if err != nil || busiest == 0 {
		r.Printf("\nloss localisation: too few flows for the network's tables\n")
		return nil
	}
	lossy := leaves // the first spine
	if err := net.SetLoss(lossy, rate); err != nil {
		return err
	}
	dropped := 0
	for i := range r.Parsed {
		if r.Parsed[i].Err == nil && !net.Send(&r.Parsed[i].Info.Key, uint32(len(r.Frames[i]))) {
			dropped++
		}
	}
	nw, derr := flowradar.DecodeNetwork(net.Flip())
	if errors.Is(derr, flowradar.ErrCorrupt) {
		return fmt.Errorf("flowradar: loss localisation: %w", derr)
	}
	var located int64
	flows, unknown := 0, 0
	var path []int
	var hops []flowradar.Hop
	for i := range nw.Flows {
		path = net.Path(&nw.Flows[i].Key, path[:0])
		if hops, err = nw.Hops(&nw.Flows[i], path, hops[:0]); err != nil {
			return fmt.Errorf("flowradar: loss localisation: %w", err)
		}
		for _, h := range hops {
			switch h.State {
			case flowradar.HopLoss:
				if h.From != lossy {
					return fmt.Errorf("flowradar: loss localisation: %v lost %d packets after switch %d, but only switch %d drops", nw.Flows[i].Key, h.Lost, h.From, lossy)
				}
				located += h.Lost
				flows++
			case flowradar.HopGain:
				return fmt.Errorf("flowradar: loss localisation: %v has more packets at switch %d than at switch %d before it", nw.Flows[i].Key, h.To, h.From)
			case flowradar.HopUnknown:
				unknown++
			}
		}
	}
	if located > int64(dropped) {
		return fmt.Errorf("flowradar: loss localisation: located %d lost packets, but the network dropped %d", located, dropped)
	}
	r.Printf("\nloss localisation: spine %d of a %d-leaf %d-spine network drops %g%% of what it forwards: %d packets dropped; "+
		"the collector locates %d of them after switch %d, in %d flows (%d hops undecided, decode error %v)\n",
		lossy, leaves, spines, 100*rate, dropped, located, lossy, flows, unknown, derr)
	return nil
}

// flowradarKernelReport replays the kernel frames (r.KernelFrames: clipped,
// at most kernelMaxFrames) through flowradar/xdp, flips the epoch, and
// compares the kernel's table with the Go encoder's of the same frames,
// then decodes it.
func flowradarKernelReport(r *Run, p flowradar.Params) (string, error) {
	if !r.KernelAllowed() {
		return "kernel: not run (-kernel off)", nil
	}
	k, err := frxdp.Load(frxdp.Options{Params: p})
	if err != nil {
		return r.KernelSkipped("flowradar", err)
	}
	defer k.Close()
	frames := r.KernelFrames()
	prog := k.Program()
	start := time.Now()
	for i, f := range frames {
		if _, err := prog.Run(&ebpf.RunOptions{Data: f, Repeat: 1}); err != nil {
			return "", fmt.Errorf("flowradar kernel: test run: %w", err)
		}
		r.Progress("flowradar kernel", i, len(frames))
	}
	el := time.Since(start)
	got, err := k.Flip()
	if err != nil {
		return "", err
	}
	want, _ := flowradar.NewTable(p)
	frxdp.Encode(want, frames)
	d, derr := got.Decode()
	tableErr := flowradarTableDiffers(got, want)
	r.Printf("kernel (flowradar/xdp): %d frames in %v (test runs, syscalls included); table equal to Go: %v; decoded %d flows (%v)\n",
		len(frames), el.Round(time.Millisecond), tableErr == nil, len(d.Flows), derr)
	if tableErr != nil {
		return "", tableErr
	}
	// Measured after the comparison (it counts every frame again, 1,024
	// times): the replay left every flow known, the common case.
	kns, fns, err := r.KernelSpeed(prog)
	if err != nil {
		return "", err
	}
	r.Printf("kernel speed: %.1f ns/packet, XDP_DROP floor %.1f ns/packet, net %.1f ns/packet (shared tables, atomic updates: parse + hash + filter test + %d cells, flows known)\n",
		kns, fns, kns-fns, p.Hashes)
	return "kernel: table equal to the Go encoder's, field for field", nil
}

// flowradarTableDiffers returns the flowradar section's error when the
// kernel's table (got) differs from the Go encoder's (want) in parameters,
// filter or a cell; nil when they are equal.
func flowradarTableDiffers(got, want *flowradar.Table) error {
	if !got.Equal(want) {
		return errors.New("flowradar: the kernel's table differs from the Go encoder's")
	}
	return nil
}
