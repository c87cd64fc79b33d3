package cms

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Binary format, all integers little-endian:
//
//	magic   4 bytes  "CMS1"
//	flags   4 bytes  bit 0: conservative update; other bits zero
//	width   4 bytes  w
//	depth   4 bytes  d
//	seed    8 bytes
//	total   8 bytes  N
//	counters 4*w*d bytes, row-major (as cms/xdp's Kernel.Counters returns them)
const (
	magic      = "CMS1"
	headerLen  = 32
	flagConsrv = 1
)

// MarshalBinary encodes s: a 32-byte header (the magic "CMS1", a flags
// word whose bit 0 is conservative update, w, d, the seed and N), then the
// w*d counters row-major, as the kernel's loader reads them. All integers are
// little-endian. The zero Sketch, which [Sketch.UnmarshalBinary] would
// reject, is an error.
func (s *Sketch) MarshalBinary() ([]byte, error) {
	if err := errInvalid(nil, "MarshalBinary's receiver", s); err != nil {
		return nil, err
	}
	return s.AppendBinary(make([]byte, 0, headerLen+4*len(s.counters)))
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
	b = append(b, magic...)
	b = binary.LittleEndian.AppendUint32(b, flags)
	b = binary.LittleEndian.AppendUint32(b, s.width)
	b = binary.LittleEndian.AppendUint32(b, s.depth)
	b = binary.LittleEndian.AppendUint64(b, s.seed)
	b = binary.LittleEndian.AppendUint64(b, s.total)
	for _, v := range s.counters {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b, nil
}

// UnmarshalBinary replaces s with the sketch encoded in b. It checks every
// field: the magic, unknown flags, the dimensions against [MaxDepth] and
// [MaxCounters], the length against the dimensions, and the invariant of
// Add: each row sums to at most N (exactly N for a sketch built by
// standard update alone; less is valid for one read while writers ran,
// see [Concurrent.Snapshot]). Errors wrap [ErrCorrupt]; on error s is
// unchanged.
func (s *Sketch) UnmarshalBinary(b []byte) error {
	if len(b) < headerLen {
		return fmt.Errorf("%w: %d bytes, the header alone is %d", ErrCorrupt, len(b), headerLen)
	}
	if string(b[:4]) != magic {
		return fmt.Errorf("%w: magic %q, want %q", ErrCorrupt, b[:4], magic)
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
	if want := uint64(headerLen) + 4*uint64(p.Counters()); uint64(len(b)) != want {
		return fmt.Errorf("%w: %d bytes for width %d and depth %d, want %d", ErrCorrupt, len(b), p.Width, p.Depth, want)
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
