package flowradar

import (
	"fmt"
	"math/rand/v2"

	"github.com/dataplane-go/dataplane/flow"
)

// LeafSpine is a small simulated data-center network for tests, examples
// and benchmarks: Leaves leaf switches (0 .. Leaves-1), each connected to
// every one of Spines spine switches (Leaves .. Leaves+Spines-1), every
// switch running its own [Encoder]. A flow enters at the leaf of its source
// address and leaves at the leaf of its destination address (a hash of the
// address picks the leaf); between two leaves it crosses the spine that
// ECMP hashing of its 5-tuple picks. Each switch can drop a fraction of
// the packets it forwards, after encoding them (a loss on its egress), so
// the switches downstream count fewer packets than it does. Build it with
// [NewLeafSpine]; the zero LeafSpine has no switch, so no flow has a path
// and Send delivers nothing, and a nil *LeafSpine behaves as the zero one.
type LeafSpine struct {
	Leaves, Spines int
	Switches       []*Encoder
	loss           []float64
	rng            *rand.Rand
	seed           uint64
}

// NewLeafSpine builds the network; every switch gets parameters p with
// a seed derived from seed and its index, so that no two
// switches hash alike. Loss and ECMP use seed too: runs are reproducible.
func NewLeafSpine(leaves, spines int, p Params, seed uint64) (*LeafSpine, error) {
	// Each count on its own first: leaves+spines can wrap around an int.
	if leaves < 1 || spines < 1 || leaves > 1<<16 || spines > 1<<16 || leaves+spines > 1<<16 {
		return nil, fmt.Errorf("%w: leaf-spine needs at least one leaf and one spine and at most 65536 switches, got %d leaves and %d spines", ErrParams, leaves, spines)
	}
	n := &LeafSpine{Leaves: leaves, Spines: spines, loss: make([]float64, leaves+spines),
		rng: rand.New(rand.NewPCG(seed, flow.Mix(seed, 7))), seed: seed}
	for j := 0; j < leaves+spines; j++ {
		q := p
		q.Seed = flow.Mix(seed, uint32(16+j))
		e, err := New(q)
		if err != nil {
			return nil, err
		}
		n.Switches = append(n.Switches, e)
	}
	return n, nil
}

// SetLoss makes switch sw drop each packet it forwards with probability
// rate, after counting it.
func (n *LeafSpine) SetLoss(sw int, rate float64) error {
	var loss []float64 // none in the zero or a nil LeafSpine
	if n != nil {
		loss = n.loss
	}
	if sw < 0 || sw >= len(loss) || !(rate >= 0 && rate <= 1) {
		return fmt.Errorf("%w: loss needs a switch in [0, %d) and a rate in [0, 1], got %d and %v", ErrParams, len(loss), sw, rate)
	}
	n.loss[sw] = rate
	return nil
}

// wired reports whether n is as [NewLeafSpine] built it: Leaves and
// Spines count its switches, each with a loss rate, and it has its random
// source.
func (n *LeafSpine) wired() bool {
	return n != nil && n.Leaves >= 1 && n.Spines >= 1 && n.Leaves+n.Spines == len(n.Switches) &&
		len(n.loss) == len(n.Switches) && n.rng != nil
}

func (n *LeafSpine) leafOf(addr []byte) int {
	return int(flow.Reduce(flow.Hash64(addr, n.seed), uint32(n.Leaves)))
}

// Path returns the switches flow k crosses, in order: one leaf when both
// addresses sit under the same leaf, otherwise source leaf, spine,
// destination leaf: the path [Network.Hops] takes to locate the flow's
// loss. It writes them over out from out[:0], reusing its memory (unlike
// Hops, which appends), so a loop can pass back the last path. A nil or
// invalid key has no path, and neither has any key in a LeafSpine not
// built by [NewLeafSpine] (the zero one, a literal) or whose Leaves or
// Spines were changed since, so that they no longer count its Switches.
func (n *LeafSpine) Path(k *flow.Key, out []int) []int {
	out = out[:0]
	if k == nil || !k.IsValid() || !n.wired() {
		return out
	}
	b := k.Bytes()
	a := (len(b) - 5) / 2 // address length
	src, dst := n.leafOf(b[:a]), n.leafOf(b[a:2*a])
	if src == dst {
		return append(out, src)
	}
	spine := n.Leaves + int(flow.Reduce(k.Hash(^n.seed), uint32(n.Spines)))
	return append(out, src, spine, dst)
}

// Send forwards one packet of flow k with size bytes along its path; each
// switch encodes it, then may drop it. It reports whether the packet was
// delivered: false for a key without a path (see [LeafSpine.Path]),
// which reaches no switch, and at a nil switch, which neither encodes
// nor forwards it.
func (n *LeafSpine) Send(k *flow.Key, size uint32) bool {
	var buf [3]int
	path := n.Path(k, buf[:0])
	if len(path) == 0 {
		return false
	}
	for _, sw := range path {
		e := n.Switches[sw]
		if e == nil {
			return false
		}
		e.Add(k, size)
		if n.loss[sw] > 0 && n.rng.Float64() < n.loss[sw] {
			return false
		}
	}
	return true
}

// Flip ends the epoch at every switch and returns the frozen tables, in
// switch order, ready for [DecodeNetwork]; a nil switch gives a nil table.
func (n *LeafSpine) Flip() []*Table {
	if n == nil {
		return nil
	}
	out := make([]*Table, len(n.Switches))
	for j, e := range n.Switches {
		if e != nil {
			out[j] = e.Flip()
		}
	}
	return out
}
