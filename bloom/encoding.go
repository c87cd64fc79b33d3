package bloom

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// The binary encoding shared by the three filter kinds: see "Encoding" in
// the package documentation (doc.go), which is its specification.
const (
	magic        = "DPBL"
	version      = 2
	headerLen    = 20
	trailerLen   = 4
	kindFilter   = 1
	kindBlocked  = 2
	kindCounting = 3
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var kindNames = [...]string{kindFilter: "Filter", kindBlocked: "Blocked", kindCounting: "CountingFilter"}

// header is the decoded fixed part.
type header struct {
	kind  uint8
	k     uint8
	width uint8
	m     uint32
	seed  uint64
}

func appendEncoding(dst []byte, h header, words []uint64) []byte {
	start := len(dst)
	dst = append(dst, magic...)
	dst = append(dst, version, h.kind, h.k, h.width)
	dst = binary.LittleEndian.AppendUint32(dst, h.m)
	dst = binary.LittleEndian.AppendUint64(dst, h.seed)
	for _, w := range words {
		dst = binary.LittleEndian.AppendUint64(dst, w)
	}
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// wordsFor returns the number of 64-bit words that hold m cells of width bits.
func wordsFor(m uint32, width uint8) int {
	return int((uint64(m)*uint64(width) + 63) / 64)
}

// decodeEncoding checks b as an encoding of the given kind and returns its
// header and words. Checks that depend on the kind (k range, block
// multiple, counter width) are left to the caller except the width.
func decodeEncoding(b []byte, kind uint8) (header, []uint64, error) {
	var h header
	if len(b) < headerLen+trailerLen {
		return h, nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte minimum", ErrCorrupt, len(b), headerLen+trailerLen)
	}
	if string(b[:4]) != magic {
		return h, nil, fmt.Errorf("%w: magic is %q, want %q", ErrCorrupt, b[:4], magic)
	}
	if b[4] == 1 {
		return h, nil, fmt.Errorf("%w: version 1 is no longer read: its filters set bits where version %d looks for others (the classic filters' bit derivation changed); rebuild the filter from its keys", ErrCorrupt, version)
	}
	if b[4] != version {
		return h, nil, fmt.Errorf("%w: version is %d, want %d", ErrCorrupt, b[4], version)
	}
	h.kind, h.k, h.width = b[5], b[6], b[7]
	if h.kind != kind {
		name := "unknown"
		if int(h.kind) < len(kindNames) && kindNames[h.kind] != "" {
			name = kindNames[h.kind]
		}
		return h, nil, fmt.Errorf("%w: kind is %d (%s), want %d (%s)", ErrCorrupt, h.kind, name, kind, kindNames[kind])
	}
	if h.k < 1 || h.k > MaxHashes {
		return h, nil, fmt.Errorf("%w: k must be in [1, %d], got %d", ErrCorrupt, MaxHashes, h.k)
	}
	wantWidth := []uint8{1}
	if kind == kindCounting {
		wantWidth = []uint8{4, 8, 16}
	}
	okWidth := false
	for _, w := range wantWidth {
		okWidth = okWidth || h.width == w
	}
	if !okWidth {
		return h, nil, fmt.Errorf("%w: cell width must be one of %v for a %s, got %d", ErrCorrupt, wantWidth, kindNames[kind], h.width)
	}
	h.m = binary.LittleEndian.Uint32(b[8:])
	if h.m == 0 {
		return h, nil, fmt.Errorf("%w: m must be at least 1, got 0", ErrCorrupt)
	}
	if kind == kindBlocked && h.m%BlockBits != 0 {
		return h, nil, fmt.Errorf("%w: blocked m must be a multiple of %d, got %d", ErrCorrupt, BlockBits, h.m)
	}
	h.seed = binary.LittleEndian.Uint64(b[12:])
	nw := wordsFor(h.m, h.width)
	if want := uint64(headerLen+trailerLen) + 8*uint64(nw); uint64(len(b)) != want {
		return h, nil, fmt.Errorf("%w: m = %d needs %d bytes, got %d", ErrCorrupt, h.m, want, len(b))
	}
	body := b[:len(b)-trailerLen]
	if got, want := binary.LittleEndian.Uint32(b[len(body):]), crc32.Checksum(body, castagnoli); got != want {
		return h, nil, fmt.Errorf("%w: checksum is %#08x, want %#08x", ErrCorrupt, got, want)
	}
	words := make([]uint64, nw)
	for i := range words {
		words[i] = binary.LittleEndian.Uint64(body[headerLen+8*i:])
	}
	if pad := padMask(h.m, h.width); words[nw-1]&pad != 0 {
		return h, nil, fmt.Errorf("%w: padding bits after cell %d are set", ErrCorrupt, h.m-1)
	}
	return h, words, nil
}

// padMask returns the bits of the last word lying past cell m-1.
func padMask(m uint32, width uint8) uint64 {
	used := uint64(m) * uint64(width) % 64
	if used == 0 {
		return 0
	}
	return ^uint64(0) << used
}

// appendEncodingCRC appends the CRC-32C of b to b.
func appendEncodingCRC(b []byte) []byte {
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}
