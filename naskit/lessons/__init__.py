"""The lesson notebooks as a course: run them headlessly (``runner``), record and compare
their key numbers (``results``), measure their kernels' memory (``peakmem``)."""
