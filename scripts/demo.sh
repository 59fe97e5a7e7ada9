#!/usr/bin/env bash
# Quick start, part 1: set everything up, make a speech clip and a video, transcribe it, then cut
# the video down to two of its three sentences by ticking them in the editing Markdown.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p demo
cd demo
said=("Welcome to aitk." "This sentence will be cut out of the video." "Whisper turns speech back into text, with subtitles.")
for i in 0 1 2; do flite -voice awb -t "${said[$i]}" -o "part$i.wav"; done
# Each sentence over its own colour, with a pause after it: a stand-in for a screen recording.
ffmpeg -loglevel error -y -i part0.wav -i part1.wav -i part2.wav -filter_complex \
  "[0:a]apad=pad_dur=1.5[a0];[1:a]apad=pad_dur=1.5[a1];[2:a]apad=pad_dur=1.5[a2];[a0][a1][a2]concat=n=3:v=0:a=1[a]" \
  -map "[a]" -ar 48000 speech.wav
ffmpeg -loglevel error -y -f lavfi -i color=c=navy:s=640x360:r=25 -i speech.wav -shortest \
  -c:v libx264 -pix_fmt yuv420p -c:a aac welcome.mp4
rm -f part*.wav speech.wav
aitk=../.venv/bin/aitk
echo "== aitk transcribe: subtitles from speech"
"$aitk" transcribe welcome.mp4 --format srt,txt,json --force
cat welcome.srt
echo "== aitk autocut: tick sentences 1 and 3 in welcome.md, then cut"
"$aitk" autocut transcribe welcome.mp4 --force -q
# Tick the done box and every sentence but the one about being cut out.
sed -i -e 's/^- \[ \] <--/- [x] <--/' -e '/cut out/!s/^- \[ \] \(\[[0-9]*,[0-9:]*\] [A-Za-z]\)/- [x] \1/' welcome.md
grep '^- \[' welcome.md
"$aitk" autocut cut welcome.mp4 welcome.md --force
echo "== demo/welcome_cut.srt (subtitles of the cut video, demo/welcome_cut.mp4)"
cat welcome_cut.srt
