package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/iblt"
	ibltxdp "github.com/dataplane-go/dataplane/iblt/xdp"
	"github.com/dataplane-go/dataplane/internal/bpfload"
)

func init() {
	register(Section{Name: "iblt", Order: 40, Run: ibltSection})
}

// ibltLoss is the fraction of packets the section drops between its two
// simulated vantage points.
const ibltLoss = 0.01

// ibltSection reports two uses of invertible Bloom lookup tables on the
// trace: two collectors that each missed 0.5% of the flows reconcile their
// flow sets (strata estimate, a table sized from it, and the rateless
// code), and a packet digest taken upstream and downstream of a simulated
// 1% loss, whose difference lists the lost packets, in Go and in the
// kernel (iblt/xdp), with the kernel's cost per packet above an XDP_DROP
// floor.
func ibltSection(r *Run) error {
	if err := ibltReconcile(r); err != nil {
		return err
	}
	return ibltDigest(r)
}

func ibltReconcile(r *Run) error {
	flows := r.Flows()
	if len(flows) < 4 {
		r.Printf("fewer than four flows: nothing to reconcile\n")
		return nil
	}
	rng := rand.New(rand.NewPCG(r.Seed, 0x1b17))
	var a, b [][]byte
	d := 0
	for i := range flows {
		k := flows[i].Bytes()
		switch x := rng.IntN(1000); {
		case x < 5 || i == 0: // only a
			a, d = append(a, k), d+1
		case x < 10 || i == 1: // only b
			b, d = append(b, k), d+1
		default:
			a, b = append(a, k), append(b, k)
		}
	}
	// IPv4 and IPv6 keys differ in length and a table takes one length:
	// each key becomes its length byte, then its bytes zero padded to 37.
	pad := func(k []byte) []byte {
		out := make([]byte, flow.KeyLen6+1)
		out[0] = byte(len(k))
		copy(out[1:], k)
		return out
	}
	const keyLen = flow.KeyLen6 + 1
	ea, _ := iblt.NewEstimator(iblt.DefaultEstimatorParams(keyLen, r.Seed))
	eb, _ := iblt.NewEstimator(iblt.DefaultEstimatorParams(keyLen, r.Seed))
	for _, k := range a {
		ea.Insert(pad(k))
	}
	for _, k := range b {
		eb.Insert(pad(k))
	}
	if err := ea.Subtract(eb); err != nil {
		return err
	}
	est, err := ea.Estimate()
	if err != nil {
		return err
	}
	// Size for the estimate with headroom 1.5x (strata estimates are
	// within about that factor).
	p, err := iblt.ParamsFor(max(est*3/2, 1), keyLen, 0.99, r.Seed)
	if err != nil {
		return err
	}
	ta, tb := iblt.MustNew(p), iblt.MustNew(p)
	for _, k := range a {
		ta.Insert(pad(k), 0)
	}
	for _, k := range b {
		tb.Insert(pad(k), 0)
	}
	ta.Subtract(tb)
	start := time.Now()
	onlyA, onlyB, lerr := ta.List()
	listT := time.Since(start)

	// Rateless: a sends symbols until b has decoded.
	start = time.Now()
	enc, _ := iblt.NewEncoder(keyLen, r.Seed)
	dec, _ := iblt.NewDecoder(keyLen, r.Seed)
	enc.Grow(len(a))
	dec.Grow(len(b))
	for _, k := range a {
		enc.Add(pad(k))
	}
	for _, k := range b {
		dec.AddLocal(pad(k))
	}
	var sym []byte
	for !dec.Done() && dec.Received() < 20*d+100 {
		sym = enc.AppendNext(sym[:0])
		dec.AddSymbol(sym)
	}
	rateT := time.Since(start)

	r.Printf("two collectors, each missing about 0.5%% of the %d flows\n", len(flows))
	t := r.Table("measure", "value")
	t.Row("true difference", d)
	t.Row("strata estimate (32 strata x 80 cells)", est)
	t.Row("table cells (sized for 1.5x the estimate)", fmt.Sprintf("%d, k=%d, %d bytes", p.Cells, p.Hashes, p.Cells*8*(3+(keyLen+7)/8)))
	t.Row("listed only-a / only-b", fmt.Sprintf("%d / %d (error: %v)", len(onlyA), len(onlyB), lerr))
	t.Row("list time", listT.Round(time.Microsecond))
	t.Row("rateless symbols needed", fmt.Sprintf("%d (%.2f per difference), decoded: %v", dec.Received(), float64(dec.Received())/float64(d), dec.Done()))
	t.Row("rateless time, both sides", rateT.Round(time.Microsecond))
	if err := t.Flush(); err != nil {
		return err
	}
	if lerr == nil && len(onlyA)+len(onlyB) != d {
		return fmt.Errorf("iblt: listed %d differences, want %d", len(onlyA)+len(onlyB), d)
	}
	if !dec.Done() || len(dec.Remote())+len(dec.Local()) != d {
		return fmt.Errorf("iblt: rateless decode recovered %d of %d differences", len(dec.Remote())+len(dec.Local()), d)
	}
	return nil
}

type ibltPkt struct {
	flow  flow.Key
	id    uint64
	bytes uint64
}

func ibltDigest(r *Run) error {
	rng := rand.New(rand.NewPCG(r.Seed, 0xd16e))
	var frames, kept [][]byte
	removed := map[ibltPkt]int{}
	nRemoved := 0
	for _, fr := range r.Frames {
		if len(fr) < 14 {
			continue
		}
		fr = fr[:min(len(fr), bpfload.MaxFrame())] // what BPF_PROG_TEST_RUN accepts
		frames = append(frames, fr)
		// The digest holds the clipped frame when it parses, and only then;
		// r.Parsed holds the whole frame's, whose headers may end past the
		// clip.
		info, err := flow.Parse(fr)
		if err == nil && rng.Float64() < ibltLoss {
			removed[ibltPkt{info.Key, ibltxdp.PacketID(fr, info), uint64(len(fr))}]++
			nRemoved++
			continue
		}
		kept = append(kept, fr)
	}
	// Twins: packets whose flow and identifier equal another packet's. They
	// cancel in the key sum; removing two of them cannot be listed.
	seen := map[ibltPkt]int{}
	for _, fr := range frames {
		if info, err := flow.Parse(fr); err == nil {
			seen[ibltPkt{info.Key, ibltxdp.PacketID(fr, info), 0}]++
		}
	}
	twins := 0
	for _, c := range seen {
		if c > 1 {
			twins += c
		}
	}
	o, err := ibltxdp.OptionsFor(max(nRemoved, 1), 0.999, r.Seed)
	if err != nil {
		return err
	}
	up, _ := ibltxdp.Digest(o, frames)
	down, _ := ibltxdp.Digest(o, kept)
	l := ibltList(up, down, removed)

	// Go cost of one digest update (parse excluded) against one xxHash64
	// of the same 48-byte key.
	keys := make([][ibltxdp.KeyLen]byte, 0, len(frames))
	for _, fr := range frames {
		if info, err := flow.Parse(fr); err == nil {
			keys = append(keys, ibltxdp.PacketKey(fr, info))
		}
	}
	tbl := iblt.MustNew(o.Params())
	insNs := r.TimePer(len(keys), func() {
		for i := range keys {
			tbl.Insert(keys[i][:], 64)
		}
	})
	var sink uint64
	hashNs := r.TimePer(len(keys), func() {
		for i := range keys {
			sink += flow.Hash64(keys[i][:], 1)
		}
	})
	_ = sink

	r.Printf("\npacket digest upstream and downstream of a simulated %.0f%% loss\n", 100*ibltLoss)
	t := r.Table("measure", "value")
	t.Row("frames upstream / downstream", fmt.Sprintf("%d / %d", len(frames), len(kept)))
	t.Row("digest", fmt.Sprintf("%d cells, k=%d, %d bytes per table", o.Cells, o.Hashes, o.Cells*8*(3+ibltxdp.KeyLen/8)))
	t.Row("packets removed / listed lost / listed extra", fmt.Sprintf("%d / %d / %d", nRemoved, len(l.lost), len(l.extra)))
	t.Row("packets with a twin (same flow and id) in the trace", twins)
	t.Row("listing names exactly the removed packets", l.exact)
	t.Row("every listed packet was removed", l.sound)
	if l.err != nil {
		t.Row("listing incomplete", fmt.Sprintf("%v (removed twins cancel in the key sum)", l.err))
	}
	if len(keys) > 0 {
		t.Row("Go insert ns/packet (48-byte key)", fmt.Sprintf("%.1f (%.1fx one xxHash64 of the key, %.1f ns)", insNs, insNs/hashNs, hashNs))
	} else {
		t.Row("Go insert ns/packet (48-byte key)", "- (no packet parsed)")
	}
	if err := t.Flush(); err != nil {
		return err
	}
	if r.Top > 0 { // as the other sections' top-N lists: -top 0 shows none
		for i, p := range l.lost {
			if i == r.Top {
				r.Printf("  ... %d more\n", len(l.lost)-r.Top)
				break
			}
			r.Printf("  lost: %v id %#016x %d bytes\n", p.Flow, p.ID, p.Bytes)
		}
	}
	if !l.ok() {
		return fmt.Errorf("iblt: digest listing differs from the removed packets")
	}

	line, err := ibltKernel(r, o, frames, kept, up, down, removed)
	r.Printf("%s\n", line)
	return err
}

// ibltListing is what the difference of two packet digests (upstream and
// downstream of the loss) lists, judged against the packets removed.
type ibltListing struct {
	lost, extra []ibltxdp.Packet // listed lost (upstream only) and extra (downstream only)
	err         error            // the listing is incomplete
	exact       bool             // it names exactly the removed packets, and is complete
	sound       bool             // every packet listed was removed, no more often
}

// ibltList lists the difference of the digests up and down and judges it
// against removed.
func ibltList(up, down *iblt.Table, removed map[ibltPkt]int) ibltListing {
	var l ibltListing
	l.lost, l.extra, l.err = ibltxdp.Lost(up, down)
	l.exact = ibltExact(l.lost, removed) && len(l.extra) == 0 && l.err == nil
	l.sound = ibltSound(l.lost, removed) && len(l.extra) == 0
	return l
}

// ok reports whether the listing is right: sound, and exact unless it is
// incomplete (removed twins cancel in the key sum and cannot be listed).
func (l ibltListing) ok() bool {
	return l.sound && (l.exact || l.err != nil)
}

// ibltKernelCheck compares the kernel's digests (up, down) with Go's, and
// lists the lost packets from the kernel's: whether both digests are
// identical to Go's, and the kernel's listing.
func ibltKernelCheck(up, down, goUp, goDown *iblt.Table, removed map[ibltPkt]int) (bool, ibltListing) {
	return up.Equal(goUp) && down.Equal(goDown), ibltList(up, down, removed)
}

// ibltKernelDisagreement returns the iblt section's error when the
// kernel's digests are not identical to Go's (same) or its listing is
// wrong (see ibltListing.ok); nil when they agree.
func ibltKernelDisagreement(same bool, l ibltListing) error {
	if !same || !l.ok() {
		return fmt.Errorf("iblt: kernel digest identical to Go: %v, kernel listing exact: %v, sound: %v (%v)", same, l.exact, l.sound, l.err)
	}
	return nil
}

// ibltSound reports whether every listed packet was removed, no more often
// than it was removed.
func ibltSound(lost []ibltxdp.Packet, removed map[ibltPkt]int) bool {
	got := map[ibltPkt]int{}
	for _, p := range lost {
		k := ibltPkt{p.Flow, p.ID, p.Bytes}
		got[k]++
		if got[k] > removed[k] {
			return false
		}
	}
	return true
}

func ibltExact(lost []ibltxdp.Packet, removed map[ibltPkt]int) bool {
	got := map[ibltPkt]int{}
	for _, p := range lost {
		got[ibltPkt{p.Flow, p.ID, p.Bytes}]++
	}
	if len(got) != len(removed) {
		return false
	}
	for k, c := range removed {
		if got[k] != c {
			return false
		}
	}
	return true
}

// ibltKernel digests the frames with two kernels (upstream all frames,
// downstream the kept ones), compares each table with the Go digest, lists
// the lost packets from the kernel tables, and measures the kernel.
func ibltKernel(r *Run, o ibltxdp.Options, frames, kept [][]byte, goUp, goDown *iblt.Table, removed map[ibltPkt]int) (string, error) {
	if !r.KernelAllowed() {
		return "kernel: not run (-kernel off)", nil
	}
	if len(frames) == 0 {
		return "kernel: not run (no frame holds an Ethernet header)", nil
	}
	load := func() (*ibltxdp.Kernel, error) { return ibltxdp.Load(o) }
	up, err := load()
	if err != nil {
		line, err := r.KernelSkipped("iblt", err)
		return "\n" + line, err
	}
	defer up.Close()
	down, err := load()
	if err != nil {
		return "", err
	}
	defer down.Close()
	for i, fr := range frames {
		if _, err := up.Run(fr); err != nil {
			return "", err
		}
		r.Progress("iblt kernel", i, len(frames))
	}
	for _, fr := range kept {
		if _, err := down.Run(fr); err != nil {
			return "", err
		}
	}
	ku, err := up.Table()
	if err != nil {
		return "", err
	}
	kd, err := down.Table()
	if err != nil {
		return "", err
	}
	same, l := ibltKernelCheck(ku, kd, goUp, goDown, removed)
	r.Printf("\nkernel (iblt/xdp, per-CPU tables): digests identical to Go: %v; kernel difference lists %d lost packets, exactly the removed ones: %v, all of them removed ones: %v\n",
		same, len(l.lost), l.exact, l.sound)

	// Speed above an XDP_DROP floor.
	bench, err := ibltxdp.Load(o)
	if err != nil {
		return "", err
	}
	defer bench.Close()
	kns, fns, err := r.KernelSpeed(bench.Program())
	if err != nil {
		return "", err
	}
	r.Printf("kernel speed: %.1f ns/packet, XDP_DROP floor %.1f ns/packet, net %.1f ns/packet (parse + packet id + 2 hashes + %d cells)\n",
		kns, fns, kns-fns, o.Hashes)
	if err := ibltKernelDisagreement(same, l); err != nil {
		return "", err
	}
	return "kernel: agrees with Go cell for cell", nil
}
