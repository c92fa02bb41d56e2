"""BXML and Bandwidth's webhooks: the vocabulary (every fact about them), writing, linting and importing BXML
documents, the webhook payload models."""
