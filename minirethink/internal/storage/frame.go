package storage

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
)

const (
	walMagic  = "MRDBWAL1"
	snapMagic = "MRDBSNP1"
	// trailerLen marks a snapshot's trailer frame.
	trailerLen = 0xFFFFFFFF
	// MaxRecord is the largest record: a frame claiming more is damage.
	MaxRecord = 1 << 30
	headerLen = 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendFrame appends rec, framed, to buf.
func appendFrame(buf, rec []byte) []byte {
	var h [headerLen]byte
	binary.LittleEndian.PutUint32(h[:4], uint32(len(rec)))
	binary.LittleEndian.PutUint32(h[4:], crc32.Checksum(rec, castagnoli))
	buf = append(buf, h[:]...)
	return append(buf, rec...)
}

// errTorn is a frame that is cut short or fails its checksum.
type errTorn struct{ reason string }

func (e *errTorn) Error() string { return e.reason }

// frameReader reads frames from a file whose magic has been checked.
type frameReader struct {
	r    *bufio.Reader
	off  int64 // offset of the next frame
	size int64 // the file's size: no frame reaches past it
	buf  []byte
}

func newFrameReader(f *os.File, off int64) *frameReader {
	size := int64(math.MaxInt64)
	if info, err := f.Stat(); err == nil {
		size = info.Size()
	}
	return &frameReader{r: bufio.NewReaderSize(f, 1<<20), off: off, size: size}
}

// next returns the next record (valid until the following call), io.EOF at a
// clean end, *errTorn for a frame cut short or damaged, and for a trailer
// frame ok=false with its count in n.
func (fr *frameReader) next() (rec []byte, trailer bool, n uint32, err error) {
	var h [headerLen]byte
	k, err := io.ReadFull(fr.r, h[:])
	if err == io.EOF {
		return nil, false, 0, io.EOF
	}
	if err != nil {
		return nil, false, 0, &errTorn{fmt.Sprintf("a frame header cut short (%d of %d bytes)", k, headerLen)}
	}
	length := binary.LittleEndian.Uint32(h[:4])
	sum := binary.LittleEndian.Uint32(h[4:])
	if length == trailerLen {
		fr.off += headerLen
		return nil, true, sum, nil
	}
	if length > MaxRecord {
		return nil, false, 0, &errTorn{fmt.Sprintf("a frame claiming %d bytes", length)}
	}
	if rest := fr.size - fr.off - headerLen; int64(length) > rest {
		// Cut short, or a damaged length: either way, nothing to allocate.
		return nil, false, 0, &errTorn{fmt.Sprintf("a record cut short (%d of %d bytes)", max(rest, 0), length)}
	}
	if cap(fr.buf) < int(length) {
		fr.buf = make([]byte, length)
	}
	fr.buf = fr.buf[:length]
	if k, err := io.ReadFull(fr.r, fr.buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, false, 0, &errTorn{fmt.Sprintf("a record cut short (%d of %d bytes)", k, length)}
		}
		return nil, false, 0, err
	}
	if crc32.Checksum(fr.buf, castagnoli) != sum {
		return nil, false, 0, &errTorn{"a record whose checksum does not match"}
	}
	fr.off += headerLen + int64(length)
	return fr.buf, false, 0, nil
}

// SnapshotWriter writes a snapshot: Add each record, then Finish.
type SnapshotWriter struct {
	w   *bufio.Writer
	n   uint32
	buf []byte
	err error
}

// NewSnapshotWriter starts a snapshot on w (a file, or a backup's download).
func NewSnapshotWriter(w io.Writer) *SnapshotWriter {
	bw := bufio.NewWriterSize(w, 1<<20)
	_, err := bw.WriteString(snapMagic)
	return &SnapshotWriter{w: bw, err: err}
}

// Add appends one record.
func (s *SnapshotWriter) Add(rec []byte) error {
	if s.err != nil {
		return s.err
	}
	s.buf = appendFrame(s.buf[:0], rec)
	_, s.err = s.w.Write(s.buf)
	s.n++
	return s.err
}

// Finish writes the trailer and flushes; the snapshot is complete.
func (s *SnapshotWriter) Finish() error {
	if s.err != nil {
		return s.err
	}
	var h [headerLen]byte
	binary.LittleEndian.PutUint32(h[:4], trailerLen)
	binary.LittleEndian.PutUint32(h[4:], s.n)
	if _, err := s.w.Write(h[:]); err != nil {
		return err
	}
	return s.w.Flush()
}
