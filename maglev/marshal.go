package maglev

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Encoding of a Table (all integers little-endian):
//
//	magic "MGLV" | version u8 = 2 | size u32 | seed u64 | n u32 |
//	n times: weight u32 | name length u8 | name |
//	CRC-32C (Castagnoli) u32 of all the bytes before it
//
// Version 1 is the same without the checksum: a flipped bit in it gives
// another valid table (another seed, weight or name) as often as not, and
// the decoder cannot tell, so version 2 adds the checksum. Decoders still
// read version 1.
//
// Entries are not stored: they are a function of the rest, so decoding
// rebuilds the table and can never yield a table whose entries disagree
// with its backends.
const (
	magic     = "MGLV"
	version   = 2
	versionV1 = 1
	headerLen = 4 + 1 + 4 + 8 + 4
	crcLen    = 4
	// maxEncodedLen is the longest encoding of a table New accepts:
	// MaxSize backends (those beyond M drained) with names of MaxNameLen
	// bytes, 1.3 GB. UnmarshalBinary refuses longer input before reading
	// it; anything shorter may be a table MarshalBinary wrote.
	maxEncodedLen = headerLen + MaxSize*(5+MaxNameLen) + crcLen
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// MarshalBinary encodes the table's size, seed and backends (not its
// entries, which [Table.UnmarshalBinary] rebuilds from them). All integers
// are little-endian: the magic "MGLV", the version (2), the size (u32),
// the seed (u64), the number of backends (u32), then each backend's
// weight (u32), name length (u8) and name, in the table's order, and a
// CRC-32C (Castagnoli, u32) of all the bytes before it.
func (t *Table) MarshalBinary() ([]byte, error) {
	n := headerLen + crcLen
	for _, b := range t.backends {
		n += 5 + len(b.Name)
	}
	out := make([]byte, 0, n)
	out = append(out, magic...)
	out = append(out, version)
	out = binary.LittleEndian.AppendUint32(out, t.size)
	out = binary.LittleEndian.AppendUint64(out, t.seed)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(t.backends)))
	for _, b := range t.backends {
		out = binary.LittleEndian.AppendUint32(out, b.Weight)
		out = append(out, byte(len(b.Name)))
		out = append(out, b.Name...)
	}
	return binary.LittleEndian.AppendUint32(out, crc32.Checksum(out, castagnoli)), nil
}

// UnmarshalBinary decodes data written by MarshalBinary, validates every
// field and the checksum, and rebuilds the table. It also reads version 1
// (no checksum), which earlier versions wrote. Errors wrap [ErrCorrupt];
// on error t is unchanged.
//
// Rebuilding costs what [New] costs for the decoded size and backends,
// not what the input's length suggests: 28 bytes can name a table of
// [MaxSize] entries, whose build allocates 20 MB and takes 0.1 to 0.2 s
// (measured here with 1 and 100 backends). Where the input is untrusted,
// check the size field (bytes 5 to 8, little-endian) against the sizes you
// use before decoding.
func (t *Table) UnmarshalBinary(data []byte) error {
	if len(data) < headerLen {
		return fmt.Errorf("%w: %d bytes, a table needs at least %d", ErrCorrupt, len(data), headerLen)
	}
	if len(data) > maxEncodedLen {
		return fmt.Errorf("%w: %d bytes, at most %d accepted", ErrCorrupt, len(data), maxEncodedLen)
	}
	if string(data[:4]) != magic {
		return fmt.Errorf("%w: magic %q, want %q", ErrCorrupt, data[:4], magic)
	}
	switch data[4] {
	case version:
		if len(data) < headerLen+crcLen {
			return fmt.Errorf("%w: %d bytes, a table of version %d needs at least %d", ErrCorrupt, len(data), version, headerLen+crcLen)
		}
		body := data[:len(data)-crcLen]
		if got, want := binary.LittleEndian.Uint32(data[len(body):]), crc32.Checksum(body, castagnoli); got != want {
			return fmt.Errorf("%w: checksum is %#08x, want %#08x", ErrCorrupt, got, want)
		}
		data = body
	case versionV1:
	default:
		return fmt.Errorf("%w: version %d, want %d (or %d, without a checksum)", ErrCorrupt, data[4], version, versionV1)
	}
	p := Params{Size: binary.LittleEndian.Uint32(data[5:]), Seed: binary.LittleEndian.Uint64(data[9:])}
	n := binary.LittleEndian.Uint32(data[17:])
	if p.Size == 0 {
		// Only the zero Table encodes size 0: no seed, no backends.
		if p.Seed != 0 || n != 0 || len(data) != headerLen {
			return fmt.Errorf("%w: size 0 (the empty table) with seed %d, %d backends and %d bytes, want 0, 0 and %d", ErrCorrupt, p.Seed, n, len(data), headerLen)
		}
		*t = Table{}
		return nil
	}
	rest := data[headerLen:]
	if n > MaxSize {
		return fmt.Errorf("%w: %d backends, at most %d accepted", ErrCorrupt, n, MaxSize)
	}
	if uint64(n)*6 > uint64(len(rest)) { // each backend takes at least 6 bytes
		return fmt.Errorf("%w: %d backends cannot fit in %d bytes", ErrCorrupt, n, len(rest))
	}
	// Grown as backends are read, so a corrupt count costs no more memory
	// than the bytes that back it.
	bs := make([]Backend, 0, min(n, 4096))
	for i := 0; i < int(n); i++ {
		if len(rest) < 5 {
			return fmt.Errorf("%w: backend %d truncated", ErrCorrupt, i)
		}
		w := binary.LittleEndian.Uint32(rest)
		l := int(rest[4])
		rest = rest[5:]
		if len(rest) < l {
			return fmt.Errorf("%w: backend %d name of %d bytes truncated to %d", ErrCorrupt, i, l, len(rest))
		}
		bs = append(bs, Backend{Name: string(rest[:l]), Weight: w})
		rest = rest[l:]
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(rest))
	}
	for i := 1; i < len(bs); i++ {
		if bs[i].Name <= bs[i-1].Name {
			return fmt.Errorf("%w: backend %d (%q) does not sort after backend %d (%q): names must be strictly increasing, each backend once", ErrCorrupt, i, bs[i].Name, i-1, bs[i-1].Name)
		}
	}
	nt, err := New(p, bs)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	*t = *nt
	return nil
}
