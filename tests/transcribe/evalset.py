"""An evaluation set the project owns: speech made with flite and espeak-ng from known text.

Each utterance is one to three sentences (3-10 s) from one synthetic voice, with numbers, names
and technical words; sentences within one utterance are joined by a short or a long pause, and
the speech starts and ends right at the edges of the file (the synthesiser's own silence is cut).
`build` can also pad every clip with silence on both sides (to test text invented on silence),
and `long_form` joins utterances into one recording of a minute or more.

Everything is deterministic: the same programs give the same samples, and the faint noise that
fills the pauses and padding comes from a seeded generator. Tests use SMALL (12 English clips);
benchmarks/transcribe.py uses all of ENGLISH (tuning on even indices, reporting on odd ones)
and MULTILINGUAL with the `base` model.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000
SHORT_PAUSE = 0.35  # seconds between the sentences of an utterance
LONG_PAUSE = 1.5
NOISE = 1e-4  # amplitude of the noise floor in pauses and padding (about -80 dBFS): near silence, not zeros


@dataclass(frozen=True)
class Utterance:
    parts: tuple[str, ...]  # sentences, each synthesised on its own and joined by `pause` seconds of near silence
    voice: str  # flite voice (awb, slt, rms, kal) or espeak-ng voice (en-us, en-gb, de, fr+f3, ...)
    engine: str = "flite"  # flite | espeak-ng
    pause: float = SHORT_PAUSE  # silence between parts
    language: str = "en"  # what a multilingual model should detect

    @property
    def text(self) -> str:
        return " ".join(self.parts)


@dataclass(frozen=True)
class Clip:
    path: Path
    text: str  # reference transcript
    language: str
    index: int  # position in the utterance list it came from (even: tuning half, odd: report half)
    speech: tuple[float, float]  # seconds: where speech starts and ends in the file


def _u(voice: str, *parts: str, engine: str = "flite", pause: float = SHORT_PAUSE, language: str = "en"):
    return Utterance(tuple(parts), voice, engine, pause, language)


E = "espeak-ng"
ENGLISH: tuple[Utterance, ...] = (
    _u("awb", "The server restarted at 3 in the morning after the kernel update."),
    _u("slt", "Please send the invoice to Maria Gonzalez before Friday."),
    _u("rms", "Set the timeout to 30 seconds and retry the request.", "Then check the logs.", pause=LONG_PAUSE),
    _u("kal", "Our new office is on the fifth floor of the Baker building."),
    _u("en-us", "The Python script reads a JSON file and writes a CSV report.", engine=E),
    _u("en-gb", "Professor Williams will give the lecture on Tuesday at noon.", engine=E),
    _u("awb", "Version 2 of the database supports up to 64 connections."),
    _u("slt", "Turn left at the second light.", "The station is on your right.", pause=LONG_PAUSE),
    _u("rms", "The GPU has 24 gigabytes of memory and 2 fans."),
    _u("kal", "Doctor Patel said the blood test results will arrive by email next week."),
    _u("en-us+f3", "Compile the code with the release flag and run the unit tests.", engine=E),
    _u("en-gb-x-rp", "The train to Edinburgh leaves from platform 9 at half past 6.", engine=E),
    _u("awb", "John and Sarah moved from Seattle to Chicago in the summer of 2019."),
    _u("slt", "The password must have at least 12 characters, including a number."),
    _u("rms", "Open the terminal.", "Type the command and press enter.", pause=SHORT_PAUSE),
    _u("kal", "The meeting with Microsoft and Google is scheduled for Monday."),
    _u("en-us", "Kubernetes schedules containers across the nodes of a cluster.", engine=E),
    _u("en-gb", "The river Thames flows through Oxford and London on its way to the sea.", engine=E),
    _u("awb", "We sold 500 copies in the first week and 800 in the second."),
    _u("slt", "The API returns an error when the token has expired."),
    _u("rms", "Captain Lewis landed the plane safely in Denver.", "Nobody was hurt.", pause=LONG_PAUSE),
    _u("kal", "Add 2 cups of flour and 3 eggs to the bowl, then stir for a minute."),
    _u("en-us+m3", "The router assigns an IP address to every device on the network.", engine=E),
    _u("en-gb-x-rp", "Elizabeth wrote 7 letters to her brother in Canada.", engine=E),
    _u("awb", "Backups run every night at 11 and keep 30 days of history."),
    _u("slt", "Anna has played the violin in the city orchestra for 6 years."),
    _u("rms", "The compiler reported 4 warnings and no errors."),
    _u("kal", "Please restart the router.", "Wait one minute.", "Then try again.", pause=SHORT_PAUSE),
    _u("en-us", "Linux and Windows both support the new file system.", engine=E),
    _u("en-gb", "Thomas bought a red bicycle for 200 pounds.", engine=E),
    _u("awb", "The encryption key is stored in a hardware security module."),
    _u("slt", "Flight 752 to Boston is delayed by 40 minutes."),
    _u("rms", "Michael fixed the memory leak in the image decoder."),
    _u("kal", "The forecast says the temperature will drop to 5 degrees tonight."),
    _u("en-us+f3", "The function returns a list of integers sorted in ascending order.", engine=E),
    _u("en-gb-x-rp", "The museum opens at 10 and closes at 5 on Sundays.", engine=E),
    _u("awb", "Peter sent the contract.", "Lisa signed it the next morning.", pause=LONG_PAUSE),
    _u("slt", "The website had 3000 visitors on Saturday and twice as many on Sunday."),
    _u("rms", "The load balancer spreads traffic across 3 servers."),
    _u("kal", "Emma and David are getting married in Portugal in June."),
    _u("en-us", "Machine learning models need a lot of clean and labelled training data.", engine=E),
    _u("en-gb", "The bakery on King Street sells fresh bread every morning.", engine=E),
    _u("awb", "Install the package with pip and import it in your notebook."),
    _u("slt", "Robert called the help desk twice about the broken printer."),
)
MULTILINGUAL: tuple[Utterance, ...] = (
    _u("de", "Guten Morgen. Heute ist ein schöner Tag, und wir gehen in den Park.", engine=E, language="de"),
    _u("fr", "Le train pour Paris part à huit heures du matin, sur le quai numéro trois.", engine=E, language="fr"),
    _u("es", "Mañana vamos a visitar a mis abuelos en Madrid con toda la familia.", engine=E, language="es"),
    _u("de", "Der Computer ist schnell, aber der Drucker ist sehr langsam.", engine=E, language="de"),
    _u("fr+f3", "Ce matin, nous avons acheté du pain et du fromage au marché du village.", engine=E, language="fr"),
    _u("es", "El médico dice que necesito dormir más horas y comer más verduras.", engine=E, language="es"),
    _u(
        "de+m3", "Meine Schwester wohnt seit zwei Jahren in Berlin und arbeitet in einer Bank.", engine=E, language="de"
    ),
    _u("fr", "La réunion commence à dix heures dans la grande salle du premier étage.", engine=E, language="fr"),
    _u("es+f3", "La biblioteca de la universidad cierra a las nueve de la noche.", engine=E, language="es"),
)
# Twelve varied English clips for the tests: every voice, pauses short and long, numbers, names, jargon.
SMALL: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 7, 10, 11, 14, 21, 27)


def _synthesise(utterance: Utterance, text: str, out: Path) -> None:
    if utterance.engine == "flite":
        cmd = [_require("flite"), "-voice", utterance.voice, "-t", text, "-o", str(out)]
    else:
        cmd = [_require("espeak-ng"), "-v", utterance.voice, "-s", "150", "-w", str(out), text]
    subprocess.run(cmd, check=True, capture_output=True)


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise FileNotFoundError(f"{tool} is not installed (scripts/setup.sh installs it)")
    return path


def _decode(path: Path) -> np.ndarray:
    """Mono float32 at 16 kHz through ffmpeg (flite's kal voice is 8 kHz, espeak-ng 22.05 kHz)."""
    out = subprocess.run(
        [_require("ffmpeg"), "-loglevel", "error", "-i", str(path), "-f", "f32le", "-ac", "1", "-ar", "16000", "-"],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(out, dtype=np.float32)


def _trim(audio: np.ndarray, threshold: float = 0.02) -> np.ndarray:
    """Cut the synthesiser's leading and trailing silence (keeping 10 ms), so speech touches the edges."""
    loud = np.flatnonzero(np.abs(audio) > threshold * max(float(np.abs(audio).max()), 1e-6))
    if loud.size == 0:
        return audio
    margin = SAMPLE_RATE // 100
    return audio[max(loud[0] - margin, 0) : loud[-1] + margin]


def _silence(seconds: float, rng: np.random.Generator) -> np.ndarray:
    return (rng.standard_normal(int(round(seconds * SAMPLE_RATE))) * NOISE).astype(np.float32)


def write_wav(path: Path, audio: np.ndarray) -> None:
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    tmp = path.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())
    tmp.replace(path)


@functools.cache
def speech_of(utterance: Utterance) -> np.ndarray:
    """The utterance's samples: each part synthesised and trimmed, parts joined by the pause (seeded noise)."""
    rng = np.random.default_rng(_seed(utterance.text))
    pieces: list[np.ndarray] = []
    with tempfile.TemporaryDirectory(prefix="aitk-evalset-") as tmp:
        for i, part in enumerate(utterance.parts):
            raw = Path(tmp) / f"part{i}.wav"
            _synthesise(utterance, part, raw)
            if pieces:
                pieces.append(_silence(utterance.pause, rng))
            pieces.append(_trim(_decode(raw)))
    return np.concatenate(pieces)


def _seed(text: str) -> int:
    """A seed from the text that is the same in every process (str hash is salted per process)."""
    return int.from_bytes(text.encode("utf-8")[:64].ljust(8, b"\0")[:8], "little") ^ len(text)


def build(
    folder: Path, utterances: tuple[Utterance, ...] = ENGLISH, indices=None, pad: float = 0.0, prefix: str = "en"
) -> list[Clip]:
    """One wav per utterance in `folder` (made once: an existing file is reused), padded with `pad` s of silence."""
    folder.mkdir(parents=True, exist_ok=True)
    clips = []
    for i in range(len(utterances)) if indices is None else indices:
        u = utterances[i]
        path = folder / f"{prefix}{i:02d}{'-pad' if pad else ''}.wav"
        if not path.exists():
            rng = np.random.default_rng(_seed(u.text) + 1)
            write_wav(path, np.concatenate([_silence(pad, rng), speech_of(u), _silence(pad, rng)]))
        with wave.open(str(path)) as w:
            seconds = w.getnframes() / w.getframerate()
        clips.append(Clip(path, u.text, u.language, i, (round(pad, 3), round(seconds - pad, 3))))
    return clips


def long_form(
    folder: Path, utterances: tuple[Utterance, ...] = ENGLISH, indices=None, name: str = "long", gap: float = 0.8
) -> Clip:
    """The utterances one after another, `gap` s apart, in one recording (about 90 s for half of ENGLISH)."""
    folder.mkdir(parents=True, exist_ok=True)
    chosen = list(range(len(utterances)) if indices is None else indices)
    path = folder / f"{name}.wav"
    if not path.exists():
        rng = np.random.default_rng(len(chosen))
        pieces = []
        for i in chosen:
            if pieces:
                pieces.append(_silence(gap, rng))
            pieces.append(speech_of(utterances[i]))
        write_wav(path, np.concatenate(pieces))
    with wave.open(str(path)) as w:
        seconds = w.getnframes() / w.getframerate()
    text = " ".join(utterances[i].text for i in chosen)
    return Clip(path, text, utterances[chosen[0]].language, -1, (0.0, round(seconds, 3)))
