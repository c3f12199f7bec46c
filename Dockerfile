# RigFit: one Streamlit server per container. Build: docker build -t rigfit .
# Run:   docker run -p 8501:8501 rigfit   (then http://localhost:8501)
FROM python:3.11-slim

# The CJK fonts put Chinese text (and the charts' labels) into the PDF report,
# which draws its charts itself; the app needs no browser on the server.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
RUN useradd --create-home --uid 10001 rigfit
USER rigfit

ENV PYTHONUNBUFFERED=1
EXPOSE 8501

# /_stcore/health answers 200 once the server is up (about 2 s).
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=2)"]

CMD ["streamlit", "run", "app.py", "--server.address", "0.0.0.0", "--server.port", "8501", \
     "--server.headless", "true", "--server.fileWatcherType", "none", \
     "--browser.gatherUsageStats", "false"]
