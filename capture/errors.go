package capture

import (
	"errors"
	"strconv"
)

// Sentinels matched with [errors.Is] on the errors of this package.
var (
	// ErrFormat: the input is not a capture this package reads (unknown
	// magic number, unsupported version).
	ErrFormat = errors.New("not a pcap or pcapng capture")
	// ErrTruncated: the input ends inside a header or a record.
	ErrTruncated = errors.New("truncated")
	// ErrCorrupt: a length or field no valid capture can hold.
	ErrCorrupt = errors.New("corrupt")
)

// Errors of a zero Reader or Writer, which match no sentinel: they are
// about the caller, not about the capture.
var (
	errZeroReader = errors.New("capture: the zero Reader has no input; use Open or NewReader")
	errZeroWriter = errors.New("capture: the zero Writer has no output; use NewWriter")
)

// RecordError reports a record that could not be read. File is empty for
// readers made with [NewReader]. Record is the 1-based number of the packet
// record being read (the number of packets delivered before it, plus one),
// Offset the byte offset in the uncompressed stream where that record (or
// pcapng block) starts. Err matches [ErrTruncated], [ErrCorrupt] or
// [ErrFormat], or is the underlying I/O or gzip error; the message of a
// RecordError whose Err is nil, such as the zero one, says "unreadable
// record" in its place.
type RecordError struct {
	File   string
	Record int
	Offset int64
	Reason string
	Err    error
}

// Error returns "capture: FILE: record N at offset O: ERR: REASON", without
// the parts that are empty or zero.
func (e *RecordError) Error() string {
	s := "capture: "
	if e.File != "" {
		s += e.File + ": "
	}
	if e.Record > 0 {
		s += "record " + strconv.Itoa(e.Record) + " at offset " + strconv.FormatInt(e.Offset, 10) + ": "
	}
	if e.Err != nil {
		s += e.Err.Error()
	} else {
		s += "unreadable record"
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Unwrap returns Err, so that errors.Is matches ErrTruncated and the
// other sentinels through a RecordError.
func (e *RecordError) Unwrap() error { return e.Err }
