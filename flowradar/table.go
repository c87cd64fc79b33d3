package flowradar

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/flow"
)

// XORBytes is the width of FlowXOR: a key padded to 40 bytes (see [Cell]),
// as [flow.Key.Padded] pads it.
const XORBytes = flow.PaddedLen

// CellBytes is the size of a [Cell] in memory, in the binary encoding and
// in the kernel's map value (struct flowradar_cell).
const CellBytes = 56

// cellHash is the first output of the index derivation (flow.Mix) used by
// the counting table: the flow filter, a bloom.Blocked, takes its block
// from h itself and its bits from flow.Mix(h, i) for i < ceil(FilterHashes/7)
// <= 5, and the cell of sub-table s uses flow.Index(h, cellHash+s, ...), so
// the two draw disjoint outputs of the one key hash.
const cellHash = MaxFilterHashes

// goldenCell<s> is (cellHash+s+1)*flow.Golden modulo 2^64, so that
// flow.Mix(h, cellHash+s) is flow.Splitmix(h + goldenCell<s>); golden is
// flow.Golden untyped, so the products are exact before the reduction.
const (
	golden      = 0x9E3779B97F4A7C15
	goldenCell0 = uint64((cellHash + 1) * golden % (1 << 64))
	goldenCell1 = uint64((cellHash + 2) * golden % (1 << 64))
	goldenCell2 = uint64((cellHash + 3) * golden % (1 << 64))
	goldenCell3 = uint64((cellHash + 4) * golden % (1 << 64))
)

// Cell is one counting-table cell, laid out as the kernel's map value:
//
//	offset  0  FlowXOR      [40]byte  XOR of the padded keys of the cell's flows
//	offset 40  FlowCount    uint32    flows hashed to the cell
//	offset 44  PacketCount  uint32    packets of those flows
//	offset 48  ByteCount    uint64    bytes of those packets (an extension)
//
// A key is padded to 40 bytes as [flow.Key.Padded] pads it: its canonical
// bytes (13 for IPv4, 37 for IPv6) at offset 0, zeros up to offset 39, and
// its length (13 or 37) at offset 39. IPv4 and IPv6 flows share one table; a
// cell holding exactly one flow has FlowXOR equal to that flow's padded key,
// whose length byte says how many key bytes to read and whose padding must
// be zero. The prototype's cell (13-byte XOR, 8-bit FlowCount, 32-bit
// PacketCount) is 18 bytes; IPv6 and the byte counter cost the difference.
// Counters wrap modulo 2^32 or 2^64, which an epoch must not reach.
type Cell struct {
	FlowXOR     [XORBytes]byte
	FlowCount   uint32
	PacketCount uint32
	ByteCount   uint64
}

// xorKey XORs p into x, eight bytes at a time.
func xorKey(x, p *[XORBytes]byte) {
	for i := 0; i < XORBytes; i += 8 {
		binary.LittleEndian.PutUint64(x[i:], binary.LittleEndian.Uint64(x[i:])^binary.LittleEndian.Uint64(p[i:]))
	}
}

// counts are a cell's counters: the part of a [Cell] that a known flow's
// packet changes (see [Table]).
type counts struct {
	FlowCount   uint32
	PacketCount uint32
	ByteCount   uint64
}

// Key returns the flow whose padded key FlowXOR holds, if it holds one:
// a length byte of 13 or 37 and zero padding. It does not say the cell is
// pure; the decoders also check that the key hashes to the cell.
//
// It checks what [flow.KeyFromPadded] checks, without building an error
// for the many cells that hold no single key: decoders call it on every
// cell they test.
func (c *Cell) Key() (flow.Key, bool) { return keyOf(&c.FlowXOR) }

// keyOf is [Cell.Key] of the cell whose FlowXOR is x.
func keyOf(x *[XORBytes]byte) (flow.Key, bool) {
	const lenByte = XORBytes - 1
	n := int(x[lenByte])
	if n != flow.KeyLen4 && n != flow.KeyLen6 {
		return flow.Key{}, false
	}
	for _, b := range x[n:lenByte] {
		if b != 0 {
			return flow.Key{}, false
		}
	}
	k, err := flow.KeyFromBytes(x[:n])
	return k, err == nil
}

// Table is one epoch of a FlowRadar encoder: the flow filter and the
// counting table (the paper's "encoded flowset"). It is what a switch
// exports and a collector decodes. Build one with [NewTable] or get it
// from [Encoder.Flip]. The zero Table is not valid, but does not panic: it
// holds no flow, ignores Add and Reset, and Decode, MarshalBinary and the
// network-wide decoders return an error wrapping [ErrParams] for it. A nil
// *Table behaves as the zero Table in every method, but UnmarshalBinary
// into it is an error. A Table is not safe for concurrent writers;
// concurrent readers are fine once writing stopped.
//
// In memory the cells are split in two arrays: the FlowXORs (40 bytes a
// cell) and the three counters (16 bytes a cell). A packet of a known
// flow, every packet but a flow's first, changes only counters, so the
// memory that most packets touch is 16 bytes a cell instead of 56, and
// with many flows more of it stays in cache (FlowRadar_Encode in the
// bench module: about 10% less time a packet at 1e4 and 1e6 flows than
// with whole cells). [Table.Cells] and [Table.SetCells] exchange whole
// cells.
type Table struct {
	p      Params
	sub    uint32         // cells per sub-table
	filter *bloom.Blocked // the flow filter: FilterBits bits, FilterHashes per flow
	xor    [][XORBytes]byte
	cnt    []counts
	// geom, when set, replaces the hashing of keys to cells (tests
	// reproducing hand-drawn tables); nil in every table of the API.
	geom func(k *flow.Key, out *[MaxHashes]uint32)
}

// NewTable returns an empty table with parameters p.
func NewTable(p Params) (*Table, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	filter, err := bloom.NewBlocked(p.filterParams())
	if err != nil {
		return nil, fmt.Errorf("%w: flow filter: %w", ErrParams, err)
	}
	return &Table{
		p:      p,
		sub:    p.Cells / uint32(p.Hashes),
		filter: filter,
		xor:    make([][XORBytes]byte, p.Cells),
		cnt:    make([]counts, p.Cells),
	}, nil
}

// validKey reports whether k is non-nil and holds a flow. It is
// k.IsValid() without the copy of the whole key that a value-receiver
// method makes when called through a pointer: about a nanosecond a packet.
func validKey(k *flow.Key) bool {
	if k == nil {
		return false
	}
	n := len(k.Bytes())
	return n == flow.KeyLen4 || n == flow.KeyLen6
}

// valid reports whether t was built by NewTable (or UnmarshalBinary),
// not the zero Table or nil.
func (t *Table) valid() bool { return t != nil && t.filter != nil }

// errZero is the error for the zero Table (or nil) where a table is needed.
func errZero(what string) error {
	return fmt.Errorf("%w: %s is the zero Table or nil; build tables with NewTable", ErrParams, what)
}

// Params returns the table's parameters (none for the zero Table).
func (t *Table) Params() Params {
	if t == nil {
		return Params{}
	}
	return t.p
}

// Cells returns a copy of the counting table: cell i of sub-table s is
// element s*Cells/Hashes + i. Change the table with [Table.SetCells].
// The zero Table has no cell (nil).
func (t *Table) Cells() []Cell {
	if !t.valid() {
		return nil
	}
	out := make([]Cell, len(t.cnt))
	for i := range out {
		out[i] = t.cell(i)
	}
	return out
}

// SetCells replaces the counting table with cells, laid out as
// [Table.Cells] returns them; loaders fill tables read from a kernel
// with it. It is an error, changing nothing, unless len(cells) is
// Params.Cells.
func (t *Table) SetCells(cells []Cell) error {
	if !t.valid() {
		return errZero("the table")
	}
	if len(cells) != len(t.cnt) {
		return fmt.Errorf("%w: SetCells needs %d cells (Params.Cells), got %d", ErrParams, len(t.cnt), len(cells))
	}
	for i := range cells {
		t.setCell(i, &cells[i])
	}
	return nil
}

// cell returns cell i whole.
func (t *Table) cell(i int) Cell {
	c := &t.cnt[i]
	return Cell{FlowXOR: t.xor[i], FlowCount: c.FlowCount, PacketCount: c.PacketCount, ByteCount: c.ByteCount}
}

// setCell sets cell i to c.
func (t *Table) setCell(i int, c *Cell) {
	t.xor[i] = c.FlowXOR
	t.cnt[i] = counts{FlowCount: c.FlowCount, PacketCount: c.PacketCount, ByteCount: c.ByteCount}
}

// Filter returns the flow filter's words (not a copy): filter bit i is bit
// i%64 of word i/64, and 512-bit block b is words 8b to 8b+7 (see
// [bloom.Blocked]).
func (t *Table) Filter() []uint64 {
	if !t.valid() {
		return nil
	}
	return t.filter.Words()
}

// FlowFilter returns the flow filter itself (not a copy), a bloom.Blocked
// of Params FilterBits, FilterHashes and Seed: FlowFilter().Contains(k.Bytes())
// is [Table.Contains]. Query it, or add to it as Add would; do not decode
// another filter into it (UnmarshalBinary) or replace its words, or the
// table and its Params disagree. It is nil for the zero Table.
func (t *Table) FlowFilter() *bloom.Blocked {
	if t == nil {
		return nil
	}
	return t.filter
}

// Reset empties the table.
func (t *Table) Reset() {
	if !t.valid() {
		return
	}
	t.filter.Reset()
	clear(t.xor)
	clear(t.cnt)
}

// Clone returns a deep copy of t.
func (t *Table) Clone() *Table {
	if !t.valid() {
		return &Table{}
	}
	c := *t
	c.filter = t.filter.Clone()
	c.xor = append([][XORBytes]byte(nil), t.xor...)
	c.cnt = append([]counts(nil), t.cnt...)
	return &c
}

// copyFrom makes t, a valid table of u's Params, a copy of u, a valid
// table: the counterpart of Clone into memory that t already has.
func (t *Table) copyFrom(u *Table) {
	t.sub, t.geom = u.sub, u.geom
	copy(t.filter.Words(), u.filter.Words())
	copy(t.xor, u.xor)
	copy(t.cnt, u.cnt)
}

// Equal reports whether t and u have the same parameters, filter and
// cells. A nil *Table and the zero Table equal each other and no valid
// table.
func (t *Table) Equal(u *Table) bool {
	if !t.valid() || !u.valid() {
		return t.valid() == u.valid()
	}
	if t.p != u.p || len(t.cnt) != len(u.cnt) || !t.filter.Equal(u.filter) {
		return false
	}
	for i := range t.cnt {
		if t.cnt[i] != u.cnt[i] || t.xor[i] != u.xor[i] {
			return false
		}
	}
	return true
}

// Add counts one packet of size bytes of flow k and reports whether the
// flow was new to the epoch (not yet in the flow filter). A new flow is
// added to the filter and XORed into FlowXOR and FlowCount of its cells;
// every packet adds 1 to PacketCount and size to ByteCount of its cells
// (NSDI'16 §3, and the prototype's flow_radar.p4). A nil or invalid key
// (the zero Key) is ignored and reported as not new, and so is every key
// by the zero Table. Add never allocates.
func (t *Table) Add(k *flow.Key, size uint32) bool {
	if !validKey(k) || !t.valid() {
		return false
	}
	h := k.Hash(t.p.Seed)
	isNew := !t.filter.TestAndAddHash(h)
	if t.geom != nil {
		t.addGeom(k, size, isNew)
		return isNew
	}
	cells, sub, kc := t.cnt, t.sub, uint32(t.p.Hashes)
	if isNew {
		p := k.Padded()
		xor := t.xor[:len(cells)]
		for s := uint32(0); s < kc; s++ {
			i := s*sub + flow.Index(h, cellHash+s, sub)
			xorKey(&xor[i], &p)
			c := &cells[i]
			c.FlowCount++
			c.PacketCount++
			c.ByteCount += uint64(size)
		}
		return true
	}
	if kc == 4 && len(cells) == int(4*sub) { // the default, in straight-line code
		i0 := flow.Reduce(flow.Splitmix(h+goldenCell0), sub)
		i1 := sub + flow.Reduce(flow.Splitmix(h+goldenCell1), sub)
		i2 := 2*sub + flow.Reduce(flow.Splitmix(h+goldenCell2), sub)
		i3 := 3*sub + flow.Reduce(flow.Splitmix(h+goldenCell3), sub)
		cells[i0].PacketCount++
		cells[i0].ByteCount += uint64(size)
		cells[i1].PacketCount++
		cells[i1].ByteCount += uint64(size)
		cells[i2].PacketCount++
		cells[i2].ByteCount += uint64(size)
		cells[i3].PacketCount++
		cells[i3].ByteCount += uint64(size)
		return false
	}
	for s := uint32(0); s < kc; s++ {
		c := &cells[s*sub+flow.Index(h, cellHash+s, sub)]
		c.PacketCount++
		c.ByteCount += uint64(size)
	}
	return false
}

func (t *Table) addGeom(k *flow.Key, size uint32, isNew bool) {
	kk := *k // the hook is opaque to escape analysis: hand it copies
	idx := new([MaxHashes]uint32)
	t.geom(&kk, idx)
	p := k.Padded()
	for s := 0; s < t.p.Hashes; s++ {
		c := &t.cnt[idx[s]]
		if isNew {
			xorKey(&t.xor[idx[s]], &p)
			c.FlowCount++
		}
		c.PacketCount++
		c.ByteCount += uint64(size)
	}
}

// Contains reports whether the flow filter holds k: true for every flow
// added this epoch, and for others with the filter's false-positive rate.
// It is false for a nil or invalid key, and on the zero Table.
func (t *Table) Contains(k *flow.Key) bool {
	if !validKey(k) || !t.valid() {
		return false
	}
	return t.filter.ContainsHash(k.Hash(t.p.Seed))
}

// locate stores k's cells in out and reports whether the filter holds k,
// from one hash of the key.
func (t *Table) locate(k *flow.Key, out *[MaxHashes]uint32) bool {
	if t.geom != nil {
		t.CellsOf(k, out)
		return t.Contains(k)
	}
	h := k.Hash(t.p.Seed)
	t.cellsOf(h, out[:t.p.Hashes])
	return t.filter.ContainsHash(h)
}

// cellsOf stores in out, of Params.Hashes entries, the cells of the key
// whose hash is h, one per sub-table: cell s*sub + flow.Index(h,
// cellHash+s, sub) of sub-table s, in straight-line code for the default
// four sub-tables. (Add's known-flow path keeps its own copy of that code,
// inline, as the hottest path of the package.)
func (t *Table) cellsOf(h uint64, out []uint32) {
	sub := t.sub
	if len(out) == 4 {
		p := (*[4]uint32)(out)
		p[0] = flow.Reduce(flow.Splitmix(h+goldenCell0), sub)
		p[1] = sub + flow.Reduce(flow.Splitmix(h+goldenCell1), sub)
		p[2] = 2*sub + flow.Reduce(flow.Splitmix(h+goldenCell2), sub)
		p[3] = 3*sub + flow.Reduce(flow.Splitmix(h+goldenCell3), sub)
		return
	}
	for s := range out {
		out[s] = uint32(s)*sub + flow.Index(h, cellHash+uint32(s), sub)
	}
}

// CellsOf stores in out the counting-table cells of k, one per sub-table,
// and returns how many (Params.Hashes; 0, storing nothing, for the zero
// Table or a nil k or out). An invalid k (the zero Key) gets the cells its
// bytes hash to, although Add and Contains ignore such keys.
func (t *Table) CellsOf(k *flow.Key, out *[MaxHashes]uint32) int {
	if !t.valid() || k == nil || out == nil {
		return 0
	}
	if t.geom != nil {
		kk, o := *k, new([MaxHashes]uint32) // copies: the hook is opaque to escape analysis
		t.geom(&kk, o)
		*out = *o
		return t.p.Hashes
	}
	t.cellsOf(k.Hash(t.p.Seed), out[:t.p.Hashes])
	return t.p.Hashes
}

// Flows returns the number of flows encoded in the table, from the sum
// of FlowCount (each flow counts once per sub-table); 0 for the zero
// Table. The FlowCounts of a damaged table can claim more flows than an
// int holds on a 32-bit platform: the result is then math.MaxInt.
func (t *Table) Flows() int {
	if !t.valid() {
		return 0
	}
	var n uint64
	for i := range t.cnt {
		n += uint64(t.cnt[i].FlowCount)
	}
	return int(min(n/uint64(t.p.Hashes), math.MaxInt))
}

// Encoder is a switch's FlowRadar encoder with two epochs: packets go to
// the active table while the collector reads the frozen one ([Encoder.Flip]
// swaps them), like the kernel's double-buffered maps. Build it with [New];
// the zero Encoder is not valid: Add ignores every packet, and Active and
// Flip return a nil *Table, which the decoders refuse as they refuse the
// zero Table. Not safe for concurrent use: give each goroutine (CPU) its
// own, or serialize Add and Flip.
type Encoder struct {
	cur    *Table
	frozen *Table
}

// New returns an encoder with two empty epochs of parameters p.
func New(p Params) (*Encoder, error) {
	a, err := NewTable(p)
	if err != nil {
		return nil, err
	}
	b, _ := NewTable(p)
	return &Encoder{cur: a, frozen: b}, nil
}

// MustNew is like [New] but panics on invalid parameters; for tests and
// literals.
func MustNew(p Params) *Encoder {
	e, err := New(p)
	if err != nil {
		panic(err)
	}
	return e
}

// Add counts one packet of flow k with size bytes in the active epoch and
// reports whether the flow is new to the epoch; see [Table.Add].
func (e *Encoder) Add(k *flow.Key, size uint32) bool { return e.cur.Add(k, size) }

// Active returns the table that Add writes.
func (e *Encoder) Active() *Table { return e.cur }

// Flip ends the epoch: it returns the active table, frozen, and makes the
// other table, emptied, the active one. The returned table stays unchanged
// until the next Flip, so another goroutine may decode it while Add goes
// on (Flip itself must not run concurrently with Add).
func (e *Encoder) Flip() *Table {
	e.frozen.Reset()
	e.cur, e.frozen = e.frozen, e.cur
	return e.frozen
}

// String describes the parameters, the seed included.
func (p Params) String() string {
	return fmt.Sprintf("cells=%d hashes=%d filter-bits=%d filter-hashes=%d seed=%#x", p.Cells, p.Hashes, p.FilterBits, p.FilterHashes, p.Seed)
}
