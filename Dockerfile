# The rag HTTP service: `docker build -t rag .` (or `docker compose up --build`, see docker-compose.yml).
# At start the container ingests seeds/ into the index volume when they changed (documents uploaded
# through the API are kept), then serves on 0.0.0.0:8000, which needs RAG_API_KEYS to be set.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so code changes do not reinstall them. The
# `milvus` extra (pymilvus, Milvus Lite) is included so RAG_STORE=milvus needs no other image.
COPY pyproject.toml ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['milvus']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# README.md is optional here (pyproject names it, the build does not need it).
COPY README.m[d] pyproject.toml ./
COPY rag ./rag
RUN pip install --no-deps . && rm -rf build rag.egg-info
COPY seeds ./seeds

# The prompt templates ship inside the package; seeds/ is read from the working directory (/app).
ENV RAG_INDEX_DIR=/data/index \
    RAG_HOST=0.0.0.0 \
    RAG_PORT=8000

RUN useradd --create-home --uid 10001 rag && mkdir -p /data && chown rag:rag /data
USER rag
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]

CMD ["sh", "-c", "rag ingest seeds --if-stale --quiet && exec rag serve"]
