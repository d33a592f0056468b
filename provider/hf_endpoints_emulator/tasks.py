"""The tasks the service takes (`model.task`): the Hub's pipeline tags, and the older names its
API schema of 2023 still lists.

The service's schemas declare the task as an enum (`EndpointTask`), so a value outside it is a
parse error, as serde words one: `unknown variant `text_generation`, expected one of ...`. The
current enum is not public; this is the Hub's list of pipeline tags (huggingface.js,
`packages/tasks/src/pipelines.ts`, https://github.com/huggingface/huggingface.js), which the
Hub's model pages and the service's task picker use, plus the names only the 2023 schema has.
"""

from __future__ import annotations

PIPELINE_TAGS = (
    "text-classification",
    "token-classification",
    "table-question-answering",
    "question-answering",
    "zero-shot-classification",
    "translation",
    "summarization",
    "feature-extraction",
    "text-generation",
    "text2text-generation",
    "fill-mask",
    "sentence-similarity",
    "text-to-speech",
    "text-to-audio",
    "automatic-speech-recognition",
    "audio-to-audio",
    "audio-classification",
    "audio-text-to-text",
    "voice-activity-detection",
    "depth-estimation",
    "image-classification",
    "object-detection",
    "image-segmentation",
    "text-to-image",
    "image-to-text",
    "image-to-image",
    "image-to-video",
    "unconditional-image-generation",
    "video-classification",
    "reinforcement-learning",
    "robotics",
    "tabular-classification",
    "tabular-regression",
    "tabular-to-text",
    "table-to-text",
    "multiple-choice",
    "text-retrieval",
    "time-series-forecasting",
    "text-to-video",
    "image-text-to-text",
    "visual-question-answering",
    "document-question-answering",
    "zero-shot-image-classification",
    "graph-ml",
    "mask-generation",
    "zero-shot-object-detection",
    "text-to-3d",
    "image-to-3d",
    "image-feature-extraction",
    "video-text-to-text",
    "keypoint-detection",
    "any-to-any",
    "other",
)
#: In the API schema of 2023 (`EndpointTask`) but not among the Hub's pipeline tags.
LEGACY_TASKS = ("conversational", "sentence-embeddings", "sentence-ranking", "custom")
TASKS = PIPELINE_TAGS + LEGACY_TASKS
