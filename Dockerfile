# RigFit: one Streamlit server per container. Build: docker build -t rigfit .
# Run:   docker run -p 8501:8501 rigfit   (then http://localhost:8501)
FROM python:3.11-slim

# Chromium renders the report's chart images (kaleido); the CJK fonts put
# Chinese text into the PDF report. The app itself needs neither.
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
RUN useradd --create-home --uid 10001 rigfit
USER rigfit

ENV PYTHONUNBUFFERED=1 \
    BROWSER_PATH=/usr/bin/chromium
EXPOSE 8501

# /_stcore/health answers 200 once the server is up (about 2 s).
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=2)"]

CMD ["streamlit", "run", "app.py", "--server.address", "0.0.0.0", "--server.port", "8501", \
     "--server.headless", "true", "--server.fileWatcherType", "none", \
     "--browser.gatherUsageStats", "false"]
