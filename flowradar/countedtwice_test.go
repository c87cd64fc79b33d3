package flowradar

import (
	"errors"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// TestDecode_CountedTwice: a flow encoded as new in two tables whose cells
// are then summed (as per-CPU tables are merged when the flow was seen on
// two CPUs) leaves its cells with FlowCount 2 and a zero FlowXOR. Decode
// and FlowDecode say so, as a corrupt table, instead of only reporting an
// incomplete decode and suggesting a larger table (which cannot help). A
// table merely loaded past its threshold gets no such error.
func TestDecode_CountedTwice(t *testing.T) {
	p := ParamsFor(100, 1)
	cpu0, cpu1 := MustNew(p).Active(), MustNew(p).Active()
	keys := randomKeys(20, 3)
	for i := range keys {
		cpu0.Add(&keys[i], 100)
	}
	cpu1.Add(&keys[7], 60) // the same flow, new on a second CPU
	merged := cpu0.Cells()
	for i, c := range cpu1.Cells() {
		m := &merged[i]
		xorKey(&m.FlowXOR, &c.FlowXOR)
		m.FlowCount += c.FlowCount
		m.PacketCount += c.PacketCount
		m.ByteCount += c.ByteCount
	}
	tab := MustNew(p).Active()
	if err := tab.SetCells(merged); err != nil {
		t.Fatal(err)
	}
	f := tab.Filter()
	for _, u := range [][]uint64{cpu0.Filter(), cpu1.Filter()} {
		for i := range f {
			f[i] |= u[i]
		}
	}
	const want = "a flow was counted as new twice"
	d, err := tab.Decode()
	if !errors.Is(err, ErrCorrupt) || !errors.Is(err, ErrDecodeIncomplete) || !strings.Contains(err.Error(), want) {
		t.Errorf("Decode: %v, want ErrCorrupt saying %q beside ErrDecodeIncomplete", err, want)
	}
	// The premise: cells of that flow are left with FlowCount 2 and a zero
	// FlowXOR once the other flows are peeled.
	var idx [MaxHashes]uint32
	tab.CellsOf(&keys[7], &idx)
	rest, marked := d.Remainder.Cells(), 0
	for s := range p.Hashes {
		if c := rest[idx[s]]; c.FlowXOR == ([XORBytes]byte{}) && c.FlowCount == 2 {
			marked++
		}
	}
	if marked == 0 {
		t.Fatalf("no cell of the twice-counted flow is left with FlowCount 2 and a zero FlowXOR")
	}
	if d.Stuck == 0 {
		t.Errorf("Decode: Stuck 0, want the twice-counted flow's cells")
	}
	if _, _, err := FlowDecode([]*Table{tab}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) {
		t.Errorf("FlowDecode: %v, want ErrCorrupt saying %q", err, want)
	}

	// Four distinct flows whose keys XOR to zero (ports 1000 to 1003),
	// stuck together in a table of one cell per sub-table: FlowCount 4
	// and a zero FlowXOR, which is no proof of a double count.
	q := p
	q.Cells = uint32(p.Hashes)
	four := MustNew(q).Active()
	for i := range 4 {
		k := flow.KeyFrom4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, uint16(1000+i), 53, flow.ProtoUDP)
		four.Add(&k, 52)
	}
	if c := four.Cells()[0]; c.FlowCount != 4 || c.FlowXOR != ([XORBytes]byte{}) {
		t.Fatalf("four flows: cell 0 has FlowCount %d, zero FlowXOR %v; the test's premise fails", c.FlowCount, c.FlowXOR == [XORBytes]byte{})
	}
	if _, err := four.Decode(); !errors.Is(err, ErrDecodeIncomplete) || errors.Is(err, ErrCorrupt) {
		t.Errorf("four flows XORing to zero: %v, want ErrDecodeIncomplete only", err)
	}
	if _, _, err := FlowDecode([]*Table{four}); errors.Is(err, ErrCorrupt) {
		t.Errorf("FlowDecode of four flows XORing to zero: %v, want no ErrCorrupt", err)
	}

	// Overloaded but honest: no such claim.
	small := p
	small.Cells = 40
	over := MustNew(small).Active()
	for i := range 100 {
		k := flow.KeyFrom4([4]byte{10, 0, 0, byte(i)}, [4]byte{10, 1, 0, 1}, uint16(i), 80, flow.ProtoTCP)
		over.Add(&k, 100)
	}
	if _, err := over.Decode(); !errors.Is(err, ErrDecodeIncomplete) || strings.Contains(err.Error(), want) {
		t.Errorf("overloaded table: %v, want ErrDecodeIncomplete without %q", err, want)
	}
	if _, _, err := FlowDecode([]*Table{over}); strings.Contains(err.Error(), want) {
		t.Errorf("FlowDecode of the overloaded table: %v, want no %q", err, want)
	}
}
