"""The eval suite: question sets, metrics, retrieval and answer runs, reports and the CI gate."""
