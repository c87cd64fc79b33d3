package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Writer writes packets as a pcap file with nanosecond timestamps in
// little-endian byte order and a snapshot length of [MaxRecordLen]. A pcap
// file has one link type, given to [NewWriter]. Writes are buffered: call
// [Writer.Flush] at the end. The zero Writer is not valid; use [NewWriter]:
// it has no output, and WritePacket and Flush return an error saying so.
// A Writer is not safe for concurrent use.
type Writer struct {
	w    *bufio.Writer
	link LinkType
	n    int
	hdr  [pcapRecordLen]byte
}

// NewWriter writes a pcap file header for the link type to w and returns
// a Writer of packets of that link type. A nil w is an error.
func NewWriter(w io.Writer, link LinkType) (*Writer, error) {
	if w == nil {
		return nil, fmt.Errorf("capture: NewWriter needs an io.Writer, got nil")
	}
	if link > 0xffff {
		return nil, fmt.Errorf("capture: pcap link type must be below 65536, got %d", link)
	}
	bw := bufio.NewWriterSize(w, bufSize)
	var h [pcapHeaderLen]byte
	le := binary.LittleEndian
	le.PutUint32(h[0:], pcapNano)
	le.PutUint16(h[4:], 2)
	le.PutUint16(h[6:], 4)
	le.PutUint32(h[16:], MaxRecordLen)
	le.PutUint32(h[20:], uint32(link))
	if _, err := bw.Write(h[:]); err != nil {
		return nil, fmt.Errorf("capture: write header: %w", err)
	}
	return &Writer{w: bw, link: link}, nil
}

// WritePacket appends one packet. It returns an error when the packet's
// link type differs from the file's, Data is longer than [MaxRecordLen],
// WireLen is above what pcap can hold (2^32-1), or Time is outside the
// range pcap can hold (1970 to 2106). The zero Time is written as the
// Unix epoch, and a WireLen below len(Data) (0 in a Packet literal that
// leaves it out) as len(Data).
func (w *Writer) WritePacket(p Packet) error {
	if w.w == nil {
		return errZeroWriter
	}
	if p.Time.IsZero() {
		p.Time = time.Unix(0, 0)
	}
	w.n++
	if p.Link != w.link {
		return fmt.Errorf("capture: packet %d has link type %v, the pcap file %v (one link type per file)", w.n, p.Link, w.link)
	}
	if len(p.Data) > MaxRecordLen {
		return fmt.Errorf("capture: packet %d has %d bytes, at most %d can be written", w.n, len(p.Data), MaxRecordLen)
	}
	sec := p.Time.Unix()
	if sec < 0 || sec > 0xffffffff {
		return fmt.Errorf("capture: packet %d has time %v, outside pcap's range (1970 to 2106)", w.n, p.Time)
	}
	wire := max(p.WireLen, len(p.Data))
	if int64(wire) > 0xffffffff { // int64: an int may be 32 bits
		return fmt.Errorf("capture: packet %d has wire length %d, above pcap's %d", w.n, wire, uint32(0xffffffff))
	}
	le := binary.LittleEndian
	le.PutUint32(w.hdr[0:], uint32(sec))
	le.PutUint32(w.hdr[4:], uint32(p.Time.Nanosecond()))
	le.PutUint32(w.hdr[8:], uint32(len(p.Data)))
	le.PutUint32(w.hdr[12:], uint32(wire))
	if _, err := w.w.Write(w.hdr[:]); err != nil {
		return fmt.Errorf("capture: write packet %d: %w", w.n, err)
	}
	if _, err := w.w.Write(p.Data); err != nil {
		return fmt.Errorf("capture: write packet %d: %w", w.n, err)
	}
	return nil
}

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if w.w == nil {
		return errZeroWriter
	}
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("capture: flush: %w", err)
	}
	return nil
}

// Write writes pkts to w as one pcap file (see [Writer]) with the link
// type of the first packet (Ethernet when pkts is empty).
func Write(w io.Writer, pkts []Packet) error {
	link := LinkEthernet
	if len(pkts) > 0 {
		link = pkts[0].Link
	}
	pw, err := NewWriter(w, link)
	if err != nil {
		return err
	}
	for _, p := range pkts {
		if err := pw.WritePacket(p); err != nil {
			return err
		}
	}
	return pw.Flush()
}

// WriteFile writes pkts to a new file at path with [Write],
// gzip-compressed when the name ends in ".gz".
func WriteFile(path string, pkts []Packet) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("capture: %w", cerr)
		}
	}()
	if !strings.HasSuffix(strings.ToLower(path), ".gz") {
		return Write(f, pkts)
	}
	zw := gzip.NewWriter(f)
	if err := Write(zw, pkts); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	return nil
}
