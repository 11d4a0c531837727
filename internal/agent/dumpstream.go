/*
Copyright 2026 The SupportStack Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package agent

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DumpStream is what copyDump learnt of a pg_dump custom-format archive
// while passing it on: its size and, when it could read the archive, the
// rows of every table's data (the dump's own COPY lines, so exactly the
// rows a restore loads, at no cost to the database).
type DumpStream struct {
	Bytes int64
	// Rows maps a table to its rows; nil when the archive could not be read
	// (another archive version, a compressed dump): the caller counts
	// another way.
	Rows map[tableName]int64
	// Unreadable says why Rows is nil.
	Unreadable string
}

// tableName is a table's schema and name as the catalogue has them.
type tableName struct{ Schema, Name string }

// Custom-format archive constants (pg_backup_archiver.h, pg_backup_custom.c
// of PostgreSQL 15). Versions 1.12 to 1.15 share the layout read here, but
// for the compression field of the header.
const (
	archiveMagic    = "PGDMP"
	archiveCustom   = 1 // archCustom
	blockData       = 1 // BLK_DATA
	blockBlobs      = 3 // BLK_BLOBS
	minArchiveMinor = 12
	maxArchiveMinor = 15
	maxArchiveField = 64 << 20 // no TOC string is this long: a corrupt stream
)

// copyDump copies a custom-format archive from src to dst and counts the
// rows of each table's data on the way. It reads what it passes on and
// nothing more: a stream it cannot read is still copied whole, with Rows
// nil. An error is a read or write error of the copy itself.
func copyDump(dst io.Writer, src io.Reader) (DumpStream, error) {
	bw := bufio.NewWriterSize(dst, 1<<20)
	a := &archiveReader{r: bufio.NewReaderSize(src, 1<<20), w: bw}
	rows, parseErr := a.read()
	var ioErr *archiveIOError
	if errors.As(parseErr, &ioErr) {
		return DumpStream{Bytes: a.n}, ioErr.err
	}
	out := DumpStream{Rows: rows}
	if parseErr != nil {
		// Not an archive this reader knows: pass the rest on unread.
		out.Rows, out.Unreadable = nil, parseErr.Error()
		n, err := io.Copy(bw, a.r)
		a.n += n
		if err != nil {
			return DumpStream{Bytes: a.n}, err
		}
	}
	out.Bytes = a.n
	return out, bw.Flush()
}

// archiveIOError is a failure to read or write the stream (as opposed to a
// stream that is not an archive this reader knows).
type archiveIOError struct{ err error }

func (e *archiveIOError) Error() string { return e.err.Error() }

type archiveReader struct {
	r                *bufio.Reader
	w                io.Writer
	n                int64
	intSize, offSize int
	scratch          []byte
	// tail is the end of the current data block, to find copyEnd.
	tail []byte
}

// copyEnd ends every table's data in the archive (dumpTableData_copy):
// not a row.
const copyEnd = "\\.\n\n\n"

// take reads n bytes, passes them on and returns them (valid until the next
// call).
func (a *archiveReader) take(n int) ([]byte, error) {
	if cap(a.scratch) < n {
		a.scratch = make([]byte, n)
	}
	b := a.scratch[:n]
	read, err := io.ReadFull(a.r, b)
	// What was read is passed on, whole record or not: the copy is exact
	// whatever this reader makes of the stream.
	if _, werr := a.w.Write(b[:read]); werr != nil {
		return nil, &archiveIOError{werr}
	}
	a.n += int64(read)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errors.New("archive ends early")
		}
		return nil, &archiveIOError{err}
	}
	return b, nil
}

func (a *archiveReader) byte() (int, error) {
	b, err := a.take(1)
	if err != nil {
		return 0, err
	}
	return int(b[0]), nil
}

// int reads ReadInt's format: a sign byte, then intSize bytes, least
// significant first.
func (a *archiveReader) int() (int64, error) {
	b, err := a.take(1 + a.intSize)
	if err != nil {
		return 0, err
	}
	var v int64
	for i := a.intSize; i >= 1; i-- {
		v = v<<8 | int64(b[i])
	}
	if b[0] != 0 {
		v = -v
	}
	return v, nil
}

// str reads ReadStr's format: a length (-1 for NULL), then the bytes.
func (a *archiveReader) str() (string, error) {
	n, err := a.int()
	if err != nil || n < 0 {
		return "", err
	}
	if n > maxArchiveField {
		return "", fmt.Errorf("a string of %d bytes in the table of contents", n)
	}
	b, err := a.take(int(n))
	return string(b), err
}

// skipStrings passes n strings on without keeping them.
func (a *archiveReader) skipStrings(n int) error {
	for range n {
		size, err := a.int()
		if err != nil {
			return err
		}
		if size > 0 {
			if _, err := a.countLines(size); err != nil {
				return err
			}
		}
	}
	return nil
}

// countLines passes n bytes on, counting newlines: COPY's text format ends
// every row with one and escapes those inside values.
func (a *archiveReader) countLines(n int64) (int64, error) {
	var lines int64
	for n > 0 {
		chunk := min(n, int64(a.r.Size()))
		b, err := a.r.Peek(int(chunk))
		if err != nil && len(b) == 0 {
			if errors.Is(err, io.EOF) || errors.Is(err, bufio.ErrBufferFull) {
				return lines, fmt.Errorf("archive ends inside a data block")
			}
			return lines, &archiveIOError{err}
		}
		lines += int64(bytes.Count(b, []byte{'\n'}))
		a.tail = append(a.tail, b[max(0, len(b)-len(copyEnd)-1):]...)
		a.tail = a.tail[max(0, len(a.tail)-len(copyEnd)-1):]
		if _, err := a.w.Write(b); err != nil {
			return lines, &archiveIOError{err}
		}
		_, _ = a.r.Discard(len(b))
		a.n += int64(len(b))
		n -= int64(len(b))
	}
	return lines, nil
}

func (a *archiveReader) read() (map[tableName]int64, error) {
	if err := a.header(); err != nil {
		return nil, err
	}
	tables, err := a.toc()
	if err != nil {
		return nil, err
	}
	rows := make(map[tableName]int64, len(tables))
	for _, t := range tables {
		rows[t] = 0
	}
	seen := map[int64]bool{}
	for {
		kind, err := a.r.Peek(1)
		if len(kind) == 0 {
			if !errors.Is(err, io.EOF) {
				return nil, &archiveIOError{err}
			}
			// Every table's data has a block, even with no rows: a stream
			// that ends before some is cut short, whatever pg_dump says.
			if len(seen) < len(tables) {
				return nil, fmt.Errorf("the archive ends before the data of %d tables", len(tables)-len(seen))
			}
			return rows, nil
		}
		if _, err := a.take(1); err != nil {
			return nil, err
		}
		id, err := a.int()
		if err != nil {
			return nil, err
		}
		switch kind[0] {
		case blockData:
			lines, err := a.chunks()
			if err != nil {
				return nil, err
			}
			if lines, err = a.rowsOf(lines); err != nil {
				return nil, err
			}
			if t, ok := tables[id]; ok {
				rows[t] += lines
				seen[id] = true
			}
		case blockBlobs:
			if err := a.blobs(); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("unknown block type %d", kind[0])
		}
	}
}

func (a *archiveReader) header() error {
	magic, err := a.take(len(archiveMagic))
	if err != nil {
		return err
	}
	if string(magic) != archiveMagic {
		return errors.New("not a pg_dump custom-format archive")
	}
	v, err := a.take(6)
	if err != nil {
		return err
	}
	major, minor, format := int(v[0]), int(v[1]), int(v[5])
	a.intSize, a.offSize = int(v[3]), int(v[4])
	if major != 1 || minor < minArchiveMinor || minor > maxArchiveMinor {
		return fmt.Errorf("archive version %d.%d is not one this agent reads", major, minor)
	}
	if format != archiveCustom || a.intSize < 1 || a.intSize > 8 || a.offSize < 1 || a.offSize > 8 {
		return fmt.Errorf("archive format %d, int size %d, offset size %d is not one this agent reads", format, a.intSize, a.offSize)
	}
	// Compression: a level (int) up to 1.14, an algorithm (byte) from 1.15.
	// Only an uncompressed archive's rows can be counted in passing.
	var compressed bool
	if minor >= 15 {
		c, err := a.byte()
		if err != nil {
			return err
		}
		compressed = c != 0
	} else {
		c, err := a.int()
		if err != nil {
			return err
		}
		compressed = c != 0
	}
	if compressed {
		return errors.New("the archive is compressed")
	}
	for range 7 { // creation time: sec, min, hour, mday, mon, year, isdst
		if _, err := a.int(); err != nil {
			return err
		}
	}
	for range 3 { // database name, server version, pg_dump version
		if _, err := a.str(); err != nil {
			return err
		}
	}
	return nil
}

// toc reads the table of contents: per dump id of a TABLE DATA entry, the
// table it holds.
func (a *archiveReader) toc() (map[int64]tableName, error) {
	count, err := a.int()
	if err != nil {
		return nil, err
	}
	if count < 0 || count > 10_000_000 {
		return nil, fmt.Errorf("a table of contents of %d entries", count)
	}
	tables := map[int64]tableName{}
	for range count {
		id, err := a.int()
		if err != nil {
			return nil, err
		}
		if _, err := a.int(); err != nil { // has a data dumper
			return nil, err
		}
		// tableoid, oid, tag, desc, then section (an int), then defn,
		// dropStmt, copyStmt, namespace, tablespace, tableam, owner, then
		// "false" (with OIDs) and the dependencies, ended by NULL. Only
		// tag, desc and namespace are kept: a definition can be long.
		if err := a.skipStrings(2); err != nil {
			return nil, err
		}
		tag, err := a.str()
		if err != nil {
			return nil, err
		}
		desc, err := a.str()
		if err != nil {
			return nil, err
		}
		if _, err := a.int(); err != nil {
			return nil, err
		}
		if err := a.skipStrings(3); err != nil {
			return nil, err
		}
		namespace, err := a.str()
		if err != nil {
			return nil, err
		}
		if err := a.skipStrings(3); err != nil {
			return nil, err
		}
		for { // "false", then the dependencies, ended by NULL
			n, err := a.int()
			if err != nil {
				return nil, err
			}
			if n < 0 {
				break
			}
			if _, err := a.countLines(n); err != nil {
				return nil, err
			}
		}
		if _, err := a.take(1 + a.offSize); err != nil { // data state and offset
			return nil, err
		}
		if desc == "TABLE DATA" {
			tables[id] = tableName{namespace, tag}
		}
	}
	return tables, nil
}

// chunks reads a block's chunks (a length, then that many bytes) up to the
// zero length that ends it, and returns the newlines in them.
func (a *archiveReader) chunks() (int64, error) {
	var lines int64
	a.tail = a.tail[:0]
	for {
		n, err := a.int()
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return lines, nil
		}
		if n < 0 {
			return 0, fmt.Errorf("a data chunk of %d bytes", n)
		}
		l, err := a.countLines(n)
		if err != nil {
			return 0, err
		}
		lines += l
	}
}

// rowsOf turns the newlines of a table's data block into rows: every row
// ends in one, and copyEnd, alone on its line, adds three.
func (a *archiveReader) rowsOf(lines int64) (int64, error) {
	t := string(a.tail)
	if !strings.HasSuffix(t, copyEnd) || (len(t) > len(copyEnd) && t[0] != '\n') {
		return 0, errors.New("a table's data does not end as pg_dump ends it")
	}
	return lines - 3, nil
}

// blobs reads a large-object block: per object an oid and its chunks, up
// to oid 0.
func (a *archiveReader) blobs() error {
	for {
		oid, err := a.int()
		if err != nil {
			return err
		}
		if oid == 0 {
			return nil
		}
		if _, err := a.chunks(); err != nil { // a large object's bytes, not rows
			return err
		}
	}
}
