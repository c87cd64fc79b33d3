package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Magic numbers of the formats read.
const (
	pcapMicro     = 0xa1b2c3d4 // pcap, microsecond timestamps
	pcapNano      = 0xa1b23c4d // pcap, nanosecond timestamps
	ngSHB         = 0x0A0D0D0A // pcapng section header block type
	ngByteOrder   = 0x1A2B3C4D // pcapng byte-order magic
	ngIDB         = 1          // interface description block
	ngOPB         = 2          // obsolete packet block
	ngSPB         = 3          // simple packet block
	ngEPB         = 6          // enhanced packet block
	pcapHeaderLen = 24
	pcapRecordLen = 16
	bufSize       = 64 << 10
	maxOptions    = 64 << 10 // interface options parsed; the rest is skipped
	maxIfaces     = 1 << 16  // interfaces in one pcapng section
)

// Reader reads packets from a pcap or pcapng capture, gzip-compressed or
// not (the compression is recognised from the gzip magic number, not from a
// file name).
//
// pcap: microsecond and nanosecond magic numbers in either byte order.
// pcapng: sections of either byte order, interface description blocks with
// their link type, if_tsresol and if_tsoffset, and enhanced, simple and
// obsolete packet blocks; other blocks are skipped. A section may describe
// up to 65,536 interfaces (the obsolete packet block's 16-bit interface
// number); more are corruption, so that a small file cannot make the
// Reader hold unbounded interface state.
//
// A frame that the capture says ends in a frame check sequence (pcap's
// FCS-length bits in the link-type field, pcapng's if_fcslen interface
// option) has it removed from Data and from WireLen, so that a frame is
// what a receiving kernel's XDP program sees; the FCS bytes that a short
// snapshot did not capture are only taken off WireLen. An if_fcslen that
// is not a whole number of bytes (the option counts bits) is ignored. An
// enhanced packet block's own FCS length (its epb_flags option), where it
// is not 0, overrides its interface's.
//
// A record's captured length is trusted up to [MaxRecordLen] even when it
// exceeds the snapshot length of the file header (some writers get that
// header wrong); a longer one is corruption. After an error, every further
// call returns the same error. The zero Reader is not valid; use [Open] or
// [NewReader]: it has no input, and Next and NextInto return an error
// saying so (not io.EOF). A Reader is not safe for concurrent use.
type Reader struct {
	name    string
	file    *os.File
	gz      *gzip.Reader
	br      *bufio.Reader
	ng      bool
	bo      binary.ByteOrder
	big     bool // bo is big-endian (pcap fast path)
	nano    bool
	link    LinkType
	fcs     uint32 // bytes of FCS ending every frame (pcap)
	ifaces  []iface
	opts    []byte
	n       int   // packets delivered
	started bool  // file header read
	off     int64 // bytes consumed from the uncompressed stream
	err     error
	hdr     [32]byte
}

// iface is a pcapng interface: its link type, snapshot length and
// timestamp resolution.
type iface struct {
	link   LinkType
	snap   uint32 // snapshot length; 0: no limit
	fcs    uint32 // bytes of FCS ending every frame (if_fcslen)
	ups    uint64 // timestamp units per second (if_tsresol)
	offset int64  // seconds added to every timestamp (if_tsoffset)
}

// Open opens the capture file at path. The file's name appears in every
// error the Reader returns. Close the Reader when done. A directory is
// not a capture: its error matches ErrFormat and points to [Files], which
// lists the captures under one.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("capture: %s: %w: it is a directory (Files lists the captures under one)", path, ErrFormat)
	}
	r, err := newReader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.file = f
	return r, nil
}

// NewReader returns a Reader of the capture in rd. It reads the file
// header (and, for pcapng, the first section header) before returning. A
// nil rd is an error.
func NewReader(rd io.Reader) (*Reader, error) {
	if rd == nil {
		return nil, errors.New("capture: NewReader needs an io.Reader, got nil")
	}
	return newReader(rd, "")
}

func newReader(rd io.Reader, name string) (*Reader, error) {
	r := &Reader{name: name, br: bufio.NewReaderSize(rd, bufSize)}
	if b, err := r.br.Peek(2); err == nil && b[0] == 0x1f && b[1] == 0x8b {
		gz, err := gzip.NewReader(r.br)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, r.fail(0, ErrTruncated, "gzip header")
		}
		if err != nil {
			return nil, r.fail(0, err, "gzip header")
		}
		r.gz = gz
		r.br = bufio.NewReaderSize(gz, bufSize)
	}
	h := r.hdr[:pcapHeaderLen]
	n, err := r.readFull(h[:4])
	if err != nil {
		return nil, r.ioFail(0, err, "file header", 4, n)
	}
	switch m := binary.LittleEndian.Uint32(h); m {
	case ngSHB:
		r.ng, r.link = true, LinkEthernet // until an interface is described
		if n, err := r.readFull(h[4:8]); err != nil {
			return nil, r.ioFail(0, err, "section header", 8, n+4)
		}
		if err := r.readSHB(0); err != nil {
			return nil, err
		}
		r.started = true
		return r, nil
	case pcapMicro, pcapNano:
		r.bo, r.nano = binary.LittleEndian, m == pcapNano
	default:
		switch binary.BigEndian.Uint32(h) {
		case pcapMicro, pcapNano:
			r.bo, r.big, r.nano = binary.BigEndian, true, binary.BigEndian.Uint32(h) == pcapNano
		default:
			return nil, r.fail(0, ErrFormat, fmt.Sprintf("unknown magic number 0x%08x (pcap a1b2c3d4 or a1b23c4d in either byte order, pcapng 0a0d0d0a, or gzip 1f8b accepted)", binary.BigEndian.Uint32(h)))
		}
	}
	n, err = r.readFull(h[4:])
	if err != nil {
		return nil, r.ioFail(0, err, "pcap file header", pcapHeaderLen, n+4)
	}
	if major := r.bo.Uint16(h[4:]); major != 2 {
		return nil, r.fail(0, ErrFormat, fmt.Sprintf("pcap version %d.%d (2.x accepted)", major, r.bo.Uint16(h[6:])))
	}
	// The low 16 bits are the link type. Bit 26 says the top four bits
	// hold the length of every frame's FCS, in 16-bit units (libpcap's
	// LT_FCS_LENGTH_PRESENT and LT_FCS_LENGTH).
	lt := r.bo.Uint32(h[20:])
	r.link = LinkType(lt & 0xffff)
	if lt&(1<<26) != 0 {
		r.fcs = (lt >> 28) * 2
	}
	r.started = true
	return r, nil
}

// LinkType returns the link type of the file header (pcap) or of the first
// interface (pcapng; Ethernet until an interface is described). Each
// [Packet] carries its own link type.
func (r *Reader) LinkType() LinkType {
	if r.ng && len(r.ifaces) > 0 {
		return r.ifaces[0].link
	}
	return r.link
}

// Close releases the file opened by [Open]. It does not close the
// io.Reader given to [NewReader].
func (r *Reader) Close() error {
	if r.gz != nil {
		r.gz.Close()
	}
	if r.file != nil {
		err := r.file.Close()
		r.file = nil
		return err
	}
	return nil
}

// Next returns the next packet, with Data newly allocated and owned by the
// caller. At the end of the capture it returns io.EOF; a damaged record
// gives a [*RecordError].
func (r *Reader) Next() (Packet, error) { return r.NextInto(nil) }

// NextInto is like [Reader.Next] but puts Data in buf when its capacity
// suffices (allocating a new slice otherwise), so a loop that passes the
// previous packet's Data back in reads a whole capture allocating only for
// a packet longer than every one before it and for a pcapng file's
// interface descriptions. A gzip-compressed capture is the exception: its
// decompressor (compress/flate) allocates the decoding tables of most
// compressed blocks, once every 20 to 250 packets in the shared traces.
// Data is then valid until buf is reused.
func (r *Reader) NextInto(buf []byte) (Packet, error) {
	if r.err != nil {
		return Packet{}, r.err
	}
	if r.br == nil {
		return Packet{}, errZeroReader
	}
	if r.ng {
		return r.nextNG(buf)
	}
	return r.nextPcap(buf)
}

func (r *Reader) nextPcap(buf []byte) (Packet, error) {
	start := r.off
	// Peek and Discard rather than ReadFull: no copy of the header, and
	// one call into bufio per field instead of a read loop.
	h, err := r.br.Peek(pcapRecordLen)
	if err != nil {
		return Packet{}, r.ioFail(start, err, "record header", pcapRecordLen, len(h))
	}
	var sec, frac, caplen, wire uint32
	if r.big {
		be := binary.BigEndian
		sec, frac, caplen, wire = be.Uint32(h[0:]), be.Uint32(h[4:]), be.Uint32(h[8:]), be.Uint32(h[12:])
	} else {
		le := binary.LittleEndian
		sec, frac, caplen, wire = le.Uint32(h[0:]), le.Uint32(h[4:]), le.Uint32(h[8:]), le.Uint32(h[12:])
	}
	r.br.Discard(pcapRecordLen)
	r.off += pcapRecordLen
	if caplen > MaxRecordLen {
		return Packet{}, r.fail(start, ErrCorrupt, fmt.Sprintf("captured length %d exceeds the maximum %d", caplen, MaxRecordLen))
	}
	data := sized(buf, int(caplen))
	if int(caplen) <= r.br.Buffered() {
		b, _ := r.br.Peek(int(caplen))
		copy(data, b)
		r.br.Discard(int(caplen))
		r.off += int64(caplen)
	} else if n, err := r.readFull(data); err != nil {
		return Packet{}, r.ioFail(start, err, "packet data", int(caplen), n)
	}
	nsec := int64(frac)
	if !r.nano {
		nsec *= 1000
	}
	if r.fcs != 0 {
		data, wire = trimFCS(data, wire, r.fcs)
	}
	r.n++
	return Packet{
		Time:    time.Unix(int64(sec), nsec).UTC(),
		Data:    data,
		WireLen: wireLen(wire, uint32(len(data))),
		Link:    r.link,
	}, nil
}

func (r *Reader) nextNG(buf []byte) (Packet, error) {
	for {
		start := r.off
		h := r.hdr[:8]
		if n, err := r.readFull(h); err != nil {
			return Packet{}, r.ioFail(start, err, "block header", 8, n)
		}
		if binary.LittleEndian.Uint32(h) == ngSHB {
			if err := r.readSHB(start); err != nil {
				return Packet{}, err
			}
			continue
		}
		btype, blen := r.bo.Uint32(h[0:]), r.bo.Uint32(h[4:])
		if blen < 12 || blen%4 != 0 {
			return Packet{}, r.fail(start, ErrCorrupt, fmt.Sprintf("block type %d has length %d (a multiple of 4, at least 12, expected)", btype, blen))
		}
		switch btype {
		case ngIDB:
			if err := r.readIDB(start, blen); err != nil {
				return Packet{}, err
			}
		case ngEPB, ngOPB:
			return r.readEPB(start, btype, blen, buf)
		case ngSPB:
			return r.readSPB(start, blen, buf)
		default:
			if err := r.skip(start, int64(blen)-8); err != nil {
				return Packet{}, err
			}
		}
	}
}

// readSHB reads a section header block whose first 8 bytes (type and
// length, in a byte order still unknown) were read into r.hdr.
func (r *Reader) readSHB(start int64) error {
	h := r.hdr[:24]
	if n, err := r.readFull(h[8:24]); err != nil {
		return r.ioFail(start, err, "section header", 24, n+8)
	}
	switch {
	case binary.LittleEndian.Uint32(h[8:]) == ngByteOrder:
		r.bo = binary.LittleEndian
	case binary.BigEndian.Uint32(h[8:]) == ngByteOrder:
		r.bo = binary.BigEndian
	default:
		return r.fail(start, ErrFormat, fmt.Sprintf("pcapng byte-order magic 0x%08x (1a2b3c4d in either byte order expected)", binary.BigEndian.Uint32(h[8:])))
	}
	blen := r.bo.Uint32(h[4:])
	if blen < 28 || blen%4 != 0 {
		return r.fail(start, ErrCorrupt, fmt.Sprintf("section header length %d (a multiple of 4, at least 28, expected)", blen))
	}
	if major := r.bo.Uint16(h[12:]); major != 1 {
		return r.fail(start, ErrFormat, fmt.Sprintf("pcapng version %d.%d (1.x accepted)", major, r.bo.Uint16(h[14:])))
	}
	r.ifaces = r.ifaces[:0]
	return r.finishBlock(start, blen, int64(blen)-24)
}

// readIDB reads an interface description block whose 8-byte header was
// read.
func (r *Reader) readIDB(start int64, blen uint32) error {
	if blen < 20 {
		return r.fail(start, ErrCorrupt, fmt.Sprintf("interface block length %d (at least 20 expected)", blen))
	}
	if len(r.ifaces) == maxIfaces {
		return r.fail(start, ErrCorrupt, fmt.Sprintf("more than %d interfaces in one section", maxIfaces))
	}
	h := r.hdr[8:16]
	if n, err := r.readFull(h); err != nil {
		return r.ioFail(start, err, "interface block", 16, n+8)
	}
	ifc := iface{link: LinkType(r.bo.Uint16(h[0:])), snap: r.bo.Uint32(h[4:]), ups: 1e6}
	rest := int64(blen) - 16 - 4 // options
	nopt := min(rest, maxOptions)
	if int64(cap(r.opts)) < nopt {
		r.opts = make([]byte, nopt)
	}
	opts := r.opts[:nopt]
	if n, err := r.readFull(opts); err != nil {
		return r.ioFail(start, err, "interface options", int(nopt), n)
	}
	for len(opts) >= 4 {
		code, olen := r.bo.Uint16(opts[0:]), int(r.bo.Uint16(opts[2:]))
		if code == 0 || 4+olen > len(opts) {
			break
		}
		v := opts[4 : 4+olen]
		switch {
		case code == 9 && olen >= 1: // if_tsresol
			e := v[0]
			if e&0x80 == 0 {
				if e > 19 {
					return r.fail(start, ErrCorrupt, fmt.Sprintf("if_tsresol 10^-%d (at most 10^-19 accepted)", e))
				}
				ifc.ups = 1
				for range e {
					ifc.ups *= 10
				}
			} else {
				if e&0x7f > 63 {
					return r.fail(start, ErrCorrupt, fmt.Sprintf("if_tsresol 2^-%d (at most 2^-63 accepted)", e&0x7f))
				}
				ifc.ups = 1 << (e & 0x7f)
			}
		case code == 14 && olen >= 8: // if_tsoffset
			ifc.offset = int64(r.bo.Uint64(v))
		case code == 13 && olen >= 1 && v[0]%8 == 0: // if_fcslen, in bits
			ifc.fcs = uint32(v[0] / 8)
		}
		opts = opts[4+(olen+3)&^3:]
	}
	r.ifaces = append(r.ifaces, ifc)
	return r.finishBlock(start, blen, rest-nopt+4)
}

// readEPB reads an enhanced or obsolete packet block whose 8-byte header
// was read. Both have 20 fixed bytes: the interface (32 bits, or 16 bits
// and a drop count), the timestamp, the captured and the original length.
func (r *Reader) readEPB(start int64, btype, blen uint32, buf []byte) (Packet, error) {
	if blen < 32 {
		return Packet{}, r.fail(start, ErrCorrupt, fmt.Sprintf("packet block length %d (at least 32 expected)", blen))
	}
	h := r.hdr[8:28]
	if n, err := r.readFull(h); err != nil {
		return Packet{}, r.ioFail(start, err, "packet block", 28, n+8)
	}
	id := r.bo.Uint32(h[0:])
	if btype == ngOPB {
		id = uint32(r.bo.Uint16(h[0:]))
	}
	caplen, wire := r.bo.Uint32(h[12:]), r.bo.Uint32(h[16:])
	if id >= uint32(len(r.ifaces)) {
		return Packet{}, r.fail(start, ErrCorrupt, fmt.Sprintf("packet of interface %d, but %d described", id, len(r.ifaces)))
	}
	if caplen > MaxRecordLen {
		return Packet{}, r.fail(start, ErrCorrupt, fmt.Sprintf("captured length %d exceeds the maximum %d", caplen, MaxRecordLen))
	}
	if uint64(caplen) > uint64(blen)-32 {
		return Packet{}, r.fail(start, ErrCorrupt, fmt.Sprintf("captured length %d does not fit in a block of %d bytes", caplen, blen))
	}
	data := sized(buf, int(caplen))
	if n, err := r.readFull(data); err != nil {
		return Packet{}, r.ioFail(start, err, "packet data", int(caplen), n)
	}
	var fcsOpt uint32
	if btype == ngEPB {
		fcsOpt = r.epbFCS(blen, caplen)
	}
	if err := r.finishBlock(start, blen, int64(blen)-28-int64(caplen)); err != nil {
		return Packet{}, err
	}
	ifc := &r.ifaces[id]
	fcs := ifc.fcs
	if fcsOpt != 0 {
		fcs = fcsOpt
	}
	ts := uint64(r.bo.Uint32(h[4:]))<<32 | uint64(r.bo.Uint32(h[8:]))
	t, ok := ifc.time(ts)
	if !ok {
		return Packet{}, r.fail(start, ErrCorrupt, fmt.Sprintf("timestamp %d (%d units per second, offset %d s) is beyond the years a time.Time holds", ts, ifc.ups, ifc.offset))
	}
	if fcs != 0 {
		data, wire = trimFCS(data, wire, fcs)
	}
	r.n++
	return Packet{
		Time:    t,
		Data:    data,
		WireLen: wireLen(wire, uint32(len(data))),
		Link:    ifc.link,
	}, nil
}

// maxEPBOptions bounds the options of an enhanced packet block that the
// Reader looks through for epb_flags; longer ones are skipped unread.
const maxEPBOptions = 4 << 10

// epbFCS returns the FCS length in bytes that the epb_flags option of an
// enhanced packet block gives (bits 5 to 8), or 0 where the block has no
// such option or gives 0 ("not available"). The block's data (caplen
// bytes, padded to 4) has just been read; its options are looked at in
// the read buffer, not consumed, so finishBlock checks the block as
// before, and a block cut short simply has no options here.
func (r *Reader) epbFCS(blen, caplen uint32) uint32 {
	pad := int64((4 - caplen%4) % 4)
	opts := int64(blen) - 28 - int64(caplen) - pad - 4
	if opts < 8 || opts > maxEPBOptions {
		return 0
	}
	b, err := r.br.Peek(int(pad + opts))
	if err != nil {
		return 0
	}
	for b = b[pad:]; len(b) >= 4; {
		code, olen := r.bo.Uint16(b[0:]), int(r.bo.Uint16(b[2:]))
		if code == 0 || 4+olen > len(b) {
			return 0
		}
		if code == 2 && olen == 4 { // epb_flags
			return r.bo.Uint32(b[4:]) >> 5 & 0xf
		}
		b = b[min(len(b), 4+(olen+3)&^3):]
	}
	return 0
}

// readSPB reads a simple packet block whose 8-byte header was read. It
// belongs to interface 0 and has no timestamp: Time is the Unix epoch. Its
// captured length is the original length cut to interface 0's snapshot
// length and to the block (whose data field is padded to 4 bytes, so the
// block alone cannot tell padding from data).
func (r *Reader) readSPB(start int64, blen uint32, buf []byte) (Packet, error) {
	if blen < 16 {
		return Packet{}, r.fail(start, ErrCorrupt, fmt.Sprintf("simple packet block length %d (at least 16 expected)", blen))
	}
	if len(r.ifaces) == 0 {
		return Packet{}, r.fail(start, ErrCorrupt, "simple packet block before any interface block")
	}
	h := r.hdr[8:12]
	if n, err := r.readFull(h); err != nil {
		return Packet{}, r.ioFail(start, err, "simple packet block", 12, n+8)
	}
	wire := r.bo.Uint32(h)
	caplen := min(wire, blen-16)
	if snap := r.ifaces[0].snap; snap != 0 {
		caplen = min(caplen, snap)
	}
	if caplen > MaxRecordLen {
		return Packet{}, r.fail(start, ErrCorrupt, fmt.Sprintf("captured length %d exceeds the maximum %d", caplen, MaxRecordLen))
	}
	data := sized(buf, int(caplen))
	if n, err := r.readFull(data); err != nil {
		return Packet{}, r.ioFail(start, err, "packet data", int(caplen), n)
	}
	if err := r.finishBlock(start, blen, int64(blen)-12-int64(caplen)); err != nil {
		return Packet{}, err
	}
	if fcs := r.ifaces[0].fcs; fcs != 0 {
		data, wire = trimFCS(data, wire, fcs)
	}
	r.n++
	return Packet{Time: time.Unix(0, 0).UTC(), Data: data, WireLen: wireLen(wire, uint32(len(data))), Link: r.ifaces[0].link}, nil
}

// wireLen returns a record's WireLen: its original length wire, never
// less than its captured length, and math.MaxInt where an int cannot hold
// it. On a 32-bit platform int(wire) is negative from 2^31 on; max with
// the captured length then kept WireLen above len(Data) but replaced a
// length of 2^31 or more by the few bytes captured, where the nearest
// length an int holds is math.MaxInt (the Writer saturates the other
// way, at 2^32-1).
func wireLen(wire, caplen uint32) int {
	return int(min(uint64(max(wire, caplen)), math.MaxInt))
}

// trimFCS takes a frame check sequence of fcs bytes off the end of a
// frame that was wire bytes long on the wire and of which data holds the
// first bytes: off the wire length, and off data where it reaches past
// what is left. A wire length below the captured one (some writers get it
// wrong) counts as the captured one.
func trimFCS(data []byte, wire, fcs uint32) ([]byte, uint32) {
	wire = max(wire, uint32(len(data)))
	wire -= min(wire, fcs)
	if uint32(len(data)) > wire {
		data = data[:wire]
	}
	return data, wire
}

// finishBlock skips the rest-4 bytes left in a block and checks its
// trailing length against the leading one.
func (r *Reader) finishBlock(start int64, blen uint32, rest int64) error {
	if err := r.skip(start, rest-4); err != nil {
		return err
	}
	t := r.hdr[28:32]
	if n, err := r.readFull(t); err != nil {
		return r.ioFail(start, err, "block trailer", 4, n)
	}
	if tl := r.bo.Uint32(t); tl != blen {
		return r.fail(start, ErrCorrupt, fmt.Sprintf("block trailer length %d differs from its header length %d", tl, blen))
	}
	return nil
}

func (r *Reader) skip(start, n int64) error {
	for n > 0 {
		k := int(min(n, 1<<30))
		d, err := r.br.Discard(k)
		r.off += int64(d)
		n -= int64(d)
		if err != nil {
			return r.ioFail(start, err, "block body", k, d)
		}
	}
	return nil
}

// maxUnixSec is the largest count of seconds since 1970 that time.Unix
// takes without wrapping: time.Time counts from year 1, 62,135,596,800
// seconds earlier.
const maxUnixSec = math.MaxInt64 - 62135596800

// time converts a pcapng timestamp of this interface. ok is false when
// the time, offset included, lies beyond the years a time.Time holds
// (about 292 billion), which only a damaged or crafted file can say.
func (ifc *iface) time(ts uint64) (t time.Time, ok bool) {
	sec, rem := ts/ifc.ups, ts%ifc.ups
	if sec > maxUnixSec || ifc.offset > 0 && int64(sec) > maxUnixSec-ifc.offset {
		return time.Time{}, false
	}
	var nsec uint64
	switch {
	case ifc.ups <= 1e9 && 1e9%ifc.ups == 0:
		nsec = rem * (1e9 / ifc.ups)
	default:
		hi, lo := bits.Mul64(rem, 1e9)
		nsec, _ = bits.Div64(hi, lo, ifc.ups) // hi < ups as rem < ups
	}
	return time.Unix(int64(sec)+ifc.offset, int64(nsec)).UTC(), true
}

func (r *Reader) readFull(b []byte) (int, error) {
	n, err := io.ReadFull(r.br, b)
	r.off += int64(n)
	return n, err
}

// ioFail turns a short read into the Reader's sticky error: io.EOF at a
// record boundary, ErrTruncated inside a record, or the I/O error itself.
func (r *Reader) ioFail(start int64, err error, what string, want, got int) error {
	if errors.Is(err, io.EOF) && got == 0 && r.off == start && r.started {
		r.err = io.EOF
		return io.EOF
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return r.fail(start, ErrTruncated, fmt.Sprintf("%s needs %d bytes, %d left", what, want, got))
	}
	return r.fail(start, err, what)
}

func (r *Reader) fail(start int64, err error, reason string) error {
	rec := 0
	if r.started {
		rec = r.n + 1
	}
	r.err = &RecordError{File: r.name, Record: rec, Offset: start, Reason: reason, Err: err}
	return r.err
}

// sized returns buf resized to n bytes, or a new slice when buf is too
// small.
func sized(buf []byte, n int) []byte {
	if cap(buf) >= n {
		return buf[:n]
	}
	return make([]byte, n)
}

// ReadFile reads every packet of the capture at path. On a damaged record
// it returns the packets before it together with the [*RecordError], which
// names the file, the record and what was wrong. The packets' Data share a
// few large blocks of memory (one allocation per MiB read, not one per
// packet); each Data has its length as capacity, so appending to one never
// overwrites another.
func ReadFile(path string) ([]Packet, error) {
	r, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var pkts []Packet
	var arena []byte
	const chunk = 1 << 20
	for {
		if cap(arena)-len(arena) < 2048 {
			arena = make([]byte, 0, chunk)
		}
		free := arena[len(arena):cap(arena)]
		p, err := r.NextInto(free)
		if err != nil {
			if err == io.EOF {
				return pkts, nil
			}
			return pkts, err
		}
		if len(p.Data) <= len(free) { // read into the arena
			arena = arena[:len(arena)+len(p.Data)]
		}
		p.Data = p.Data[:len(p.Data):len(p.Data)]
		pkts = append(pkts, p)
	}
}

// captureExts are the file names [Files] takes for captures, each also
// with a ".gz" suffix.
var captureExts = []string{".pcap", ".pcapng", ".cap"}

// IsCaptureName reports whether a file name looks like a capture: it ends
// in .pcap, .pcapng or .cap, optionally followed by .gz (any case).
func IsCaptureName(name string) bool {
	n := strings.TrimSuffix(strings.ToLower(name), ".gz")
	for _, e := range captureExts {
		if strings.HasSuffix(n, e) {
			return true
		}
	}
	return false
}

// Files returns the capture files (see [IsCaptureName]) under dir, searched
// recursively, in lexical order of their paths. Symbolic links to files
// count; links to directories are not followed, but dir itself may be one.
//
// An entry it cannot read does not stop the search: a subdirectory it may
// not list, or a link named like a capture that leads nowhere. Files then
// returns the captures it found together with an error naming every such
// entry. Only a dir that cannot be read at all gives no files.
func Files(dir string) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("capture: %s is not a directory", dir)
	}
	w := fileWalk{root: dir}
	if lst, err := os.Lstat(dir); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
		// WalkDir does not descend into a root that is a link; with a
		// trailing separator the link is resolved, and the paths stay
		// under dir.
		w.root = dir + string(filepath.Separator)
	}
	if err := filepath.WalkDir(w.root, w.visit); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	slices.Sort(w.out)
	if len(w.errs) > 0 {
		return w.out, fmt.Errorf("capture: %d entries under %s could not be read: %w", len(w.errs), dir, errors.Join(w.errs...))
	}
	return w.out, nil
}

// fileWalk collects what [Files] finds: the captures, and the entries it
// could not read.
type fileWalk struct {
	root string
	out  []string
	errs []error
}

// visit is Files' filepath.WalkDirFunc.
func (w *fileWalk) visit(path string, d fs.DirEntry, err error) error {
	if err != nil {
		if path == w.root {
			return err // the root itself: nothing to list
		}
		w.errs = append(w.errs, err) // names the path; the walk goes on
		return nil
	}
	if !IsCaptureName(d.Name()) {
		return nil
	}
	if d.Type().IsRegular() {
		w.out = append(w.out, path)
	} else if d.Type()&fs.ModeSymlink != 0 {
		st, err := os.Stat(path)
		switch {
		case err != nil:
			w.errs = append(w.errs, fmt.Errorf("link %s: %w", path, err))
		case st.Mode().IsRegular():
			w.out = append(w.out, path) // a link to a capture
		}
	}
	return nil
}
