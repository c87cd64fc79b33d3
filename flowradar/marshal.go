package flowradar

import (
	"encoding/binary"
	"fmt"
)

// magic starts the binary encoding of a Table ("FRT" and version 2).
// Version 1 held a classic Bloom filter whose bits are placed differently;
// its tables are refused rather than misread.
var magic = [4]byte{'F', 'R', 'T', 2}

const headerBytes = 4 + 1 + 1 + 2 + 4 + 4 + 8 // 24

// MarshalBinary encodes the table, all integers little-endian:
//
//	magic "FRT\x02" | hashes u8 | filter hashes u8 | 0 u16 | cells u32 |
//	filter bits u32 | seed u64 |
//	filter words (FilterBits/64 × u64) | cells (Cells × 56 bytes, as [Cell])
//
// The zero Table has no encoding: the error wraps [ErrParams].
func (t *Table) MarshalBinary() ([]byte, error) {
	if !t.valid() {
		return nil, errZero("the table")
	}
	filter := t.filter.Words()
	b := make([]byte, 0, headerBytes+len(filter)*8+len(t.cnt)*CellBytes)
	b = append(b, magic[:]...)
	b = append(b, byte(t.p.Hashes), byte(t.p.FilterHashes), 0, 0)
	b = binary.LittleEndian.AppendUint32(b, t.p.Cells)
	b = binary.LittleEndian.AppendUint32(b, t.p.FilterBits)
	b = binary.LittleEndian.AppendUint64(b, t.p.Seed)
	for _, w := range filter {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	for i := range t.cnt {
		c := &t.cnt[i]
		b = append(b, t.xor[i][:]...)
		b = binary.LittleEndian.AppendUint32(b, c.FlowCount)
		b = binary.LittleEndian.AppendUint32(b, c.PacketCount)
		b = binary.LittleEndian.AppendUint64(b, c.ByteCount)
	}
	return b, nil
}

// UnmarshalBinary decodes a table written by [Table.MarshalBinary],
// replacing t. Every header field is checked against [Params.Validate]
// and the length must match exactly; the cells are taken as they are (the
// decoders check them). A nil *Table, which has nowhere to put the table,
// gives an error wrapping [ErrParams].
func (t *Table) UnmarshalBinary(b []byte) error {
	if t == nil {
		return fmt.Errorf("%w: UnmarshalBinary into a nil *Table", ErrParams)
	}
	if len(b) < headerBytes {
		return fmt.Errorf("%w: need at least %d header bytes, got %d", ErrFormat, headerBytes, len(b))
	}
	if [3]byte(b[:3]) == [3]byte(magic[:3]) && b[3] == 1 {
		return fmt.Errorf("%w: version 1 (a classic flow filter) is no longer read; this package reads version %d", ErrFormat, magic[3])
	}
	if [4]byte(b[:4]) != magic {
		return fmt.Errorf("%w: magic must be %q, got %q", ErrFormat, magic[:], b[:4])
	}
	if b[6] != 0 || b[7] != 0 {
		return fmt.Errorf("%w: reserved bytes must be zero, got %#x", ErrFormat, b[6:8])
	}
	p := Params{
		Hashes:       int(b[4]),
		FilterHashes: int(b[5]),
		Cells:        binary.LittleEndian.Uint32(b[8:]),
		FilterBits:   binary.LittleEndian.Uint32(b[12:]),
		Seed:         binary.LittleEndian.Uint64(b[16:]),
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrFormat, err)
	}
	want := uint64(headerBytes) + uint64(p.FilterBits/8) + uint64(p.Cells)*CellBytes
	if uint64(len(b)) != want {
		return fmt.Errorf("%w: %s needs %d bytes, got %d", ErrFormat, p, want, len(b))
	}
	nt, err := NewTable(p)
	if err != nil {
		return err
	}
	b = b[headerBytes:]
	filter := nt.filter.Words()
	for i := range filter {
		filter[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	b = b[len(filter)*8:]
	for i := range nt.cnt {
		c, e := &nt.cnt[i], b[i*CellBytes:]
		copy(nt.xor[i][:], e[:XORBytes])
		c.FlowCount = binary.LittleEndian.Uint32(e[40:])
		c.PacketCount = binary.LittleEndian.Uint32(e[44:])
		c.ByteCount = binary.LittleEndian.Uint64(e[48:])
	}
	*t = *nt
	return nil
}
