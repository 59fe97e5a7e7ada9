"""`aitk transcribe`: Whisper speech-to-text through faster-whisper or openai-whisper."""
