// Package probe checks a rendered video with ffprobe: that it is a video
// that decodes, with the number of frames and the duration the job asked
// for. helios-scaffold run checks every chunk's output with it before the
// merge, and the merged video after it.
//
// # What is checked
//
// [Prober.Check] runs, on one file,
//
//	ffprobe -v error -select_streams v:0 -count_frames
//	  -show_entries stream=codec_name,width,height,nb_read_frames,duration,avg_frame_rate,r_frame_rate:format=duration
//	  -of json file:FILE
//
// -count_frames makes ffprobe decode every frame of the first video
// stream, so the check costs a decode of the whole stream (about 0.2 s of
// CPU for a 150-frame 720p H.264 chunk). The file name is passed with the
// "file:" protocol prefix, so that a name starting with "-" is not taken
// for an option nor one holding ":" for a protocol. A path that is not a
// regular file (a folder, a pipe that ffprobe would wait on) fails with
// [ErrNotVideo] without running ffprobe; one that does not exist is an
// error wrapping [io/fs.ErrNotExist], neither sentinel.
//
// The file fails with [ErrNotVideo] when
//
//   - ffprobe exits with a nonzero status (not a media file, a truncated
//     MP4 whose moov atom is missing);
//   - ffprobe writes anything to its standard error. At -v error it
//     prints errors only, never warnings (such as non-monotonous
//     timestamps), and nothing at all for the valid files tried (H.264,
//     HEVC, MPEG-4, VP8, VP9, ProRes and PNG video in MP4, MOV, Matroska,
//     WebM and MPEG-TS, GIF, chunks joined by ffmpeg's concat demuxer),
//     so any line there is a demuxing or decoding error. ffprobe exits 0
//     on a corrupted or truncated stream and may still count every frame,
//     or print no count at all: only its standard error tells;
//   - it has no video stream (a sound file), or no frame of it decodes;
//   - a duration is wanted and neither the stream nor the container has
//     one (a still image).
//
// These come first: a file cut short is ErrNotVideo, whatever frames of it
// decode.
//
// It fails with [ErrMismatch] when the decoded frame count (nb_read_frames,
// not the count the container claims) is not [Want].Frames, or when its
// duration is not Want.Frames/Want.FPS within one frame (1/Want.FPS) plus
// a millisecond for the rounding of container time bases. The duration is
// the video stream's where the container records one (MP4, MOV, MPEG-TS),
// and the container's otherwise (WebM and Matroska record none per
// stream); a container duration includes the sound, so a WebM whose sound
// outlasts its video by more than a frame fails. A zero Want.FPS skips the
// duration check; a frame count at the wrong frame rate (30 frames at
// 15 fps where 30 fps is wanted) fails on the duration.
//
// Each failure's message is one line that starts with the file's base
// name (quoted as Go would when it is not plain), such as
//
//	out_part_3.mp4 has 20 frames; want 30 (1.000s at 30 fps)
//	out_part_3.mp4 lasts 2.000s (15 fps); want 1.000s within 0.034s (30 frames at 30 fps)
//	out_part_3.mp4 does not decode: moov atom not found (1 more line; exit status 1)
//	out.m4a has no video stream
//
// quoting from ffprobe's standard error only its first line, without the
// "[decoder @ 0x…]" prefix. Check returns what ffprobe found with a
// failure too, as far as it printed it. Any other error (ffprobe missing or failing to
// start, output that is not ffprobe's JSON, a context that ended) wraps
// neither sentinel: the file was not judged. ffprobe's standard output
// is read up to 1 MiB and its standard error up to 64 KiB.
//
// # Time
//
// A Prober's Timeout bounds each Check; zero means [DefaultTimeout] plus
// [FrameTimeout] per wanted frame, so that a long merged video is not cut
// short. When the timeout passes or the caller's context ends, ffprobe is
// killed, and Check returns, after at most 5 s more if something
// ffprobe started still holds its output open, an error wrapping the
// context's error ([context.DeadlineExceeded] or [context.Canceled]),
// never a sentinel. ffprobe gets no process group of its own: a child
// that it started (there is none in Debian's) would outlive it.
//
// # Without ffprobe
//
// [Find] looks ffprobe up on PATH and reports false when it is not there;
// what to do then (skip the checks and say so, or stop) is the caller's
// choice. A Prober whose Path is empty looks ffprobe up on PATH at each
// Check, and a Check with no ffprobe to run returns an error wrapping
// [os/exec.ErrNotFound] or [io/fs.ErrNotExist], neither sentinel.
package probe
