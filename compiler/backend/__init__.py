"""The backend: planning the documents and routes of a checked project, writing OUT (BXML, the web app, the build
record) whole, and drawing the project as a diagram."""
