package iblt

import (
	"encoding/binary"
	"fmt"
)

// Binary format (all integers little-endian):
//
//	0  "IBLT"
//	4  version (1)
//	5  k (hashes)
//	6  key length (uint16)
//	8  cells per sub-table (uint32)
//	12 reserved, zero (uint32)
//	16 seed (uint64)
//	24 cells: k * sub * (3 + ceil(keyLen/8)) words, in the layout of [Table.Words]
const (
	magic      = "IBLT"
	version    = 1
	headerSize = 24
)

// MarshalBinary encodes the table (parameters and cells). The zero Table
// has no encoding: it returns an error wrapping [ErrInvalid].
func (t *Table) MarshalBinary() ([]byte, error) {
	if t.k == 0 {
		return nil, errZeroTable
	}
	return t.AppendBinary(make([]byte, 0, headerSize+8*len(t.cells)))
}

// AppendBinary appends the encoding of [Table.MarshalBinary] to b. On the
// zero Table it returns b unchanged and an error wrapping [ErrInvalid].
func (t *Table) AppendBinary(b []byte) ([]byte, error) {
	if t.k == 0 {
		return b, errZeroTable
	}
	b = append(b, magic...)
	b = append(b, version, byte(t.k))
	b = binary.LittleEndian.AppendUint16(b, uint16(t.keyLen))
	b = binary.LittleEndian.AppendUint32(b, t.sub)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint64(b, t.seed)
	for _, w := range t.cells {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return b, nil
}

// UnmarshalBinary replaces t with the table encoded in data, after
// checking every field: magic, version, k, key length, cell count, the
// exact length of data and the zero padding of every key sum. On error t
// is unchanged, and the error matches [ErrFormat].
func (t *Table) UnmarshalBinary(data []byte) error {
	if err := t.unmarshal(data); err != nil {
		return formatError{err}
	}
	return nil
}

// unmarshal is UnmarshalBinary without the ErrFormat wrapping.
func (t *Table) unmarshal(data []byte) error {
	p, err := decodeHeader(data)
	if err != nil {
		return err
	}
	// In 64 bits: on a 32-bit platform 8*Cells*stride can wrap around an
	// int and match a short input, and New would then be asked for a
	// table far larger than the input (or of a length it cannot make).
	want := encodedLen(uint64(p.Cells), p.KeyLen)
	if uint64(len(data)) != want {
		return fmt.Errorf("iblt: encoding of %d cells of %d words must be %d bytes, got %d", p.Cells, cellWords(p.KeyLen), want, len(data))
	}
	u := MustNew(p)
	body := data[headerSize:]
	for i := range u.cells {
		u.cells[i] = binary.LittleEndian.Uint64(body[8*i:])
	}
	for c := 0; c < p.Cells; c++ {
		if !u.padOK(u.cells[c*u.stride+wKey : (c+1)*u.stride]) {
			return fmt.Errorf("iblt: cell %d has non-zero key padding beyond key length %d", c, p.KeyLen)
		}
	}
	*t = *u
	return nil
}

// decodeHeader checks the header at the start of a table's encoding
// (magic, version, reserved field, and the parameters it gives, which
// must be valid) and returns the parameters. The length of the cells
// that follow is left to the caller.
func decodeHeader(data []byte) (Params, error) {
	if len(data) < headerSize {
		return Params{}, fmt.Errorf("iblt: encoding must be at least %d bytes, got %d", headerSize, len(data))
	}
	if string(data[:4]) != magic {
		return Params{}, fmt.Errorf("iblt: encoding must start with %q, got %q", magic, data[:4])
	}
	if data[4] != version {
		return Params{}, fmt.Errorf("iblt: encoding version must be %d, got %d", version, data[4])
	}
	if r := binary.LittleEndian.Uint32(data[12:]); r != 0 {
		return Params{}, fmt.Errorf("iblt: reserved header field must be 0, got %#x", r)
	}
	k := int(data[5])
	sub := binary.LittleEndian.Uint32(data[8:])
	p := Params{
		Hashes: k,
		KeyLen: int(binary.LittleEndian.Uint16(data[6:])),
		Seed:   binary.LittleEndian.Uint64(data[16:]),
	}
	if k >= 1 && k <= MaxHashes && uint64(sub)*uint64(k) <= MaxCells {
		p.Cells = int(sub) * k
	} else if k >= 1 && k <= MaxHashes {
		return Params{}, fmt.Errorf("iblt: cells must be at most %d, got %d", MaxCells, uint64(sub)*uint64(k))
	}
	if err := p.Validate(); err != nil {
		return Params{}, err
	}
	return p, nil
}
