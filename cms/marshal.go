package cms

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strings"
)

// Binary format, all integers little-endian:
//
//	magic    4 bytes  "CMS2"
//	flags    4 bytes  bit 0: conservative update; other bits zero
//	width    4 bytes  w
//	depth    4 bytes  d
//	seed     8 bytes
//	total    8 bytes  N
//	counters 4*w*d bytes, row-major (as cms/xdp's Kernel.Counters returns them)
//	checksum 4 bytes  CRC-32C (Castagnoli) of all the bytes before it
//
// Format 1 (magic "CMS1") is the same without the checksum: a flipped bit
// in its counters could lower an estimate below the true count, and the
// decoder cannot tell, so version 2 adds the checksum. Decoders still read
// format 1.
const (
	magic      = "CMS2"
	magicV1    = "CMS1"
	headerLen  = 32
	crcLen     = 4
	flagConsrv = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// MarshalBinary encodes s: a 32-byte header (the magic "CMS2", a flags
// word whose bit 0 is conservative update, w, d, the seed and N), the
// w*d counters row-major, as the kernel's loader reads them, and a CRC-32C
// (Castagnoli) of all the bytes before it. All integers are little-endian.
// The zero Sketch, which [Sketch.UnmarshalBinary] would reject, is an
// error.
func (s *Sketch) MarshalBinary() ([]byte, error) {
	if err := errInvalid(nil, "MarshalBinary's receiver", s); err != nil {
		return nil, err
	}
	return s.AppendBinary(make([]byte, 0, headerLen+4*len(s.counters)+crcLen))
}

// AppendBinary appends the encoding of s to b; the zero Sketch is an error
// (b is returned unchanged).
func (s *Sketch) AppendBinary(b []byte) ([]byte, error) {
	if err := errInvalid(nil, "AppendBinary's receiver", s); err != nil {
		return b, err
	}
	var flags uint32
	if s.cons {
		flags |= flagConsrv
	}
	start := len(b)
	b = append(b, magic...)
	b = binary.LittleEndian.AppendUint32(b, flags)
	b = binary.LittleEndian.AppendUint32(b, s.width)
	b = binary.LittleEndian.AppendUint32(b, s.depth)
	b = binary.LittleEndian.AppendUint64(b, s.seed)
	b = binary.LittleEndian.AppendUint64(b, s.total)
	for _, v := range s.counters {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli)), nil
}

// UnmarshalBinary replaces s with the sketch encoded in b. It checks every
// field: the magic, unknown flags, the dimensions against [MaxDepth] and
// [MaxCounters], the length against the dimensions, the checksum, and the
// invariant of Add: each row sums to at most N (exactly N for a sketch
// built by standard update alone; less is valid for one read while writers
// ran, see [Concurrent.Snapshot]). It also reads format 1 (magic "CMS1",
// no checksum), which earlier versions wrote. Errors wrap [ErrCorrupt]; on
// error s is unchanged.
func (s *Sketch) UnmarshalBinary(b []byte) error {
	if len(b) < headerLen {
		return fmt.Errorf("%w: %d bytes, the header alone is %d", ErrCorrupt, len(b), headerLen)
	}
	trailer := crcLen
	switch string(b[:4]) {
	case magic:
	case magicV1:
		trailer = 0
	default:
		return fmt.Errorf("%w: magic %q, want %q (or %q, format 1)", ErrCorrupt, b[:4], magic, magicV1)
	}
	flags := binary.LittleEndian.Uint32(b[4:])
	if flags&^flagConsrv != 0 {
		return fmt.Errorf("%w: unknown flags %#x, only %#x is defined", ErrCorrupt, flags, flagConsrv)
	}
	p := Params{
		Width:        binary.LittleEndian.Uint32(b[8:]),
		Depth:        binary.LittleEndian.Uint32(b[12:]),
		Seed:         binary.LittleEndian.Uint64(b[16:]),
		Conservative: flags&flagConsrv != 0,
	}
	if err := p.Validate(); err != nil {
		// err reads "cms: ..."; ErrCorrupt already names the package
		return fmt.Errorf("%w: %s", ErrCorrupt, strings.TrimPrefix(err.Error(), "cms: "))
	}
	if want := uint64(headerLen) + 4*uint64(p.Counters()) + uint64(trailer); uint64(len(b)) != want {
		return fmt.Errorf("%w: %d bytes for width %d and depth %d, want %d", ErrCorrupt, len(b), p.Width, p.Depth, want)
	}
	if trailer != 0 {
		body := b[:len(b)-crcLen]
		if got, want := binary.LittleEndian.Uint32(b[len(body):]), crc32.Checksum(body, castagnoli); got != want {
			return fmt.Errorf("%w: checksum is %#08x, want %#08x", ErrCorrupt, got, want)
		}
	}
	n := &Sketch{
		counters: make([]uint32, p.Counters()),
		width:    p.Width,
		depth:    p.Depth,
		seed:     p.Seed,
		cons:     p.Conservative,
		total:    binary.LittleEndian.Uint64(b[24:]),
	}
	for i := range n.counters {
		n.counters[i] = binary.LittleEndian.Uint32(b[headerLen+4*i:])
	}
	if err := n.check(); err != nil {
		return err
	}
	*s = *n
	return nil
}
