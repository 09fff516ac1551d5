module anchors

go 1.19
