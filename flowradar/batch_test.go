package flowradar

import (
	"math/rand/v2"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// TestAddPackets: AddPackets leaves exactly the table a loop of Add
// leaves, and counts the same new flows, for every sub-table count (the
// straight-line k = 4 and the general loop), batch lengths around the
// group size, flows repeated within a group (their first packet new,
// the rest not), invalid keys, and packet sizes that differ.
func TestAddPackets(t *testing.T) {
	keys := randomKeys(300, 5)
	rng := rand.New(rand.NewPCG(5, 5))
	for _, hashes := range []int{1, 3, 4, MaxHashes} {
		p := ParamsFor(len(keys), 1)
		p.Hashes = hashes
		p.Cells = uint32(hashes) * 97
		loop, batch := MustNew(p), MustNew(p)
		var pkts []Packet
		for _, n := range []int{0, 1, groupSize - 1, groupSize, groupSize + 1, 5*groupSize + 3, 700} {
			pkts = pkts[:0]
			wantNew := 0
			for range n {
				pk := Packet{Key: keys[rng.IntN(len(keys))%(1+rng.IntN(len(keys)))], Size: uint32(40 + rng.IntN(1460))}
				if rng.IntN(9) == 0 {
					pk.Key = flow.Key{}
				}
				if loop.Add(&pk.Key, pk.Size) {
					wantNew++
				}
				pkts = append(pkts, pk)
			}
			if got := batch.AddPackets(pkts); got != wantNew {
				t.Fatalf("hashes=%d, batch of %d: AddPackets counted %d new flows, the Add loop %d", hashes, n, got, wantNew)
			}
			if !batch.Active().Equal(loop.Active()) {
				t.Fatalf("hashes=%d, after a batch of %d: tables differ", hashes, n)
			}
		}
	}
}

// The zero Table ignores batches as it ignores Add; AddPackets never
// allocates.
func TestAddPackets_ZeroAndAllocs(t *testing.T) {
	var z Table
	pkts := []Packet{{Key: randomKeys(1, 1)[0], Size: 1}}
	if n := z.AddPackets(pkts); n != 0 {
		t.Fatalf("zero Table: AddPackets returned %d", n)
	}
	e := MustNew(ParamsFor(1000, 1))
	keys := randomKeys(100, 2)
	pkts = make([]Packet, len(keys))
	for i := range keys {
		pkts[i] = Packet{Key: keys[i], Size: 100}
	}
	if a := testing.AllocsPerRun(100, func() { e.AddPackets(pkts) }); a != 0 {
		t.Fatalf("AddPackets: %v allocs per batch", a)
	}
}
