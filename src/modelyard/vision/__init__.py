"""The image-classification trainer (Model Builder style), run as a built-in job.

`dataset` finds and decodes the images (label folders or an ImageSource,Label table);
`guardrails` checks the data set before any training starts and says what to fix.
"""
